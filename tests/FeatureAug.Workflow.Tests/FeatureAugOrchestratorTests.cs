using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using Microsoft.DurableTask;

namespace FeatureAug.Workflow.Tests;

/// <summary>
/// The orchestrator's stage order, fan-outs and data flow, on a fake context with canned activity results:
/// no engine, no storage, no tensors.
/// </summary>
public sealed class FeatureAugOrchestratorTests
{
    private const string RunId = "run-1";
    private const string Architecture = "resnet32";

    // 5 epochs in chunks of 2: chunks [0,2), [2,4), [4,5). 3 extraction shards. 5 tail classes over 2 fusion
    // activities: [7, 9, 8] and [3, 5], in plan order, which is not class order.
    private static RunRequest Request(RunMode mode = RunMode.Full, string modelName = "fashion") => new(
        RunId, new DatasetReference(), modelName, Architecture, mode,
        new TrainingOptions { Epochs = 5 }, new FsaOptions(),
        new ExecutionSettings(ExtractShards: 3, FuseActivities: 2, EpochsPerActivity: 2));

    private static readonly DatasetSummary Dataset = new(
        "fashion-mnist-lt", Enumerable.Range(0, 10).Select(c => $"class{c}").ToArray(),
        [500, 300, 200, 120, 80, 50, 30, 20, 12, 5], Enumerable.Repeat(100, 10).ToArray(), 1, 28, 28, [0.29f], [0.35f],
        Enumerable.Repeat(5, 10).ToArray(), ValidationSplit.FromTraining);

    // The only place that names the plan record's type.
    private static readonly PlannedAugmentation Plan = new(
        [0, 1, 2, 4, 6], [7, 3, 9, 5, 8], new Dictionary<int, int[]>(), new Dictionary<int, int>(), "runs/run-1/plan-inputs.json", 2);

    private static readonly BackboneReference Champion = new("models/fashion/backbones/champion.json", Architecture, 200);

    private static readonly EvaluateResult Evaluation = new(
        "runs/run-1/reports/report.json", "runs/run-1/reports/report.md",
        new Dictionary<string, double> { [HeadMethod.Fsa.Key()] = 0.81 },
        new Dictionary<string, double> { [HeadMethod.Fsa.Key()] = 0.64 },
        "runs/run-1/model.safetensors", "runs/run-1/heads/fsa.safetensors", null, null);

    private static readonly PromotionDecision Promotion = new(true, null, 0.81, 0.0, "no champion yet");

    // Stage timings chosen so that neither the first nor the last result to arrive holds the maximum.
    private static readonly double[] ExtractSeconds = [4, 9, 6];
    private static readonly double[] FuseSeconds = [7, 3];
    private static readonly Dictionary<string, double> HeadSeconds = new()
    {
        [HeadMethod.NoAug.Key()] = 5, [HeadMethod.Crt.Key()] = 8, [HeadMethod.CrtReinit.Key()] = 2, [HeadMethod.Lws.Key()] = 3,
        [HeadMethod.BalancedSoftmax.Key()] = 4, [HeadMethod.Fsa.Key()] = 6,
    };

    private static readonly string[] TrainedMethods =
        [HeadMethod.NoAug.Key(), HeadMethod.Crt.Key(), HeadMethod.CrtReinit.Key(), HeadMethod.Lws.Key(), HeadMethod.BalancedSoftmax.Key(), HeadMethod.Fsa.Key()];

    private static string Checkpoint(int epoch) => $"runs/run-1/checkpoints/epoch-{epoch:D3}.json";

    /// <summary>A context answering every stage with canned records, derived from the input where the input matters.</summary>
    private static FakeOrchestrationContext Context() => new FakeOrchestrationContext(RunId)
        .Answer(nameof(ValidateDatasetActivity), (RunRequest _) => Dataset)
        .Answer(nameof(TrainBackboneActivity), (TrainChunkInput chunk) =>
            new TrainChunkResult(chunk.EndEpoch, 1.0 / chunk.EndEpoch, 10 * chunk.EndEpoch, 900, Checkpoint(chunk.EndEpoch)))
        .Answer(nameof(ResolveChampionBackboneActivity), (RunRequest _) => Champion)
        .Answer(nameof(ExtractFeaturesActivity), (ExtractInput shard) =>
            new ExtractResult(shard.ShardIndex, 1000, ExtractSeconds[shard.ShardIndex], "runs/run-1/features"))
        .Answer(nameof(PlanAugmentationActivity), (PlanInput _) => Plan)
        .Answer(nameof(FuseTailClassesActivity), (FuseInput batch) => new FuseBatchResult(
            batch.Batch, batch.TailClasses.Select(c => new FuseResult(c, 40, 0, 1, $"runs/run-1/fusion/{c}.safetensors")).ToList(),
            FuseSeconds[batch.Batch]))
        .Answer(nameof(FineTuneHeadActivity), (FineTuneInput head) =>
            new HeadResult(head.Method, $"runs/run-1/heads/{head.Method}.safetensors", HeadSeconds[head.Method], 0.1, 1.0))
        .Answer(nameof(EvaluateActivity), (EvaluateInput _) => Evaluation)
        .Answer(nameof(PromoteActivity), (PromoteInput _) => Promotion);

    private static List<T> Inputs<T>(FakeOrchestrationContext context, string activity) =>
        context.Calls.Where(c => c.Name == activity).Select(c => (T)c.Input!).ToList();

    private static T OnlyInput<T>(FakeOrchestrationContext context, string activity) => Assert.Single(Inputs<T>(context, activity));

    private static List<string> Stages(FakeOrchestrationContext context)
    {
        var stages = new List<string>();
        foreach (var status in context.CustomStatuses.Cast<RunStatus>())
            if (stages.Count == 0 || stages[^1] != status.Stage) stages.Add(status.Stage);
        return stages;
    }

    /// <summary>
    /// The calls to <paramref name="activity"/> were all scheduled before any of them completed, and after
    /// everything scheduled earlier had completed.
    /// </summary>
    private static void AssertFannedOut(FakeOrchestrationContext context, string activity, int count)
    {
        int first = context.Calls.ToList().FindIndex(c => c.Name == activity);
        var fan = context.Calls.Where(c => c.Name == activity).ToList();
        Assert.Equal(count, fan.Count);
        Assert.All(fan, call => Assert.Equal(first, call.DeliveredBefore));
    }

    [Fact]
    public async Task FullRun_CallsTheStagesInOrder_WithEpochChunksAndFanOuts()
    {
        var context = Context();
        context.TimePerActivity = TimeSpan.FromSeconds(10);
        var request = Request();

        var result = await context.RunAsync(new FeatureAugOrchestrator(), request);

        string[] expected =
        [
            nameof(ValidateDatasetActivity),
            .. Enumerable.Repeat(nameof(TrainBackboneActivity), 3),
            .. Enumerable.Repeat(nameof(ExtractFeaturesActivity), 3),
            nameof(PlanAugmentationActivity),
            .. Enumerable.Repeat(nameof(FuseTailClassesActivity), 2),
            .. Enumerable.Repeat(nameof(FineTuneHeadActivity), HeadMethods.Trained.Count),
            nameof(EvaluateActivity),
            nameof(PromoteActivity),
        ];
        Assert.Equal(expected, context.Calls.Select(c => c.Name));
        Assert.Same(request, OnlyInput<RunRequest>(context, nameof(ValidateDatasetActivity)));

        // Training is sequential: each chunk resumes from the one before.
        var chunks = Inputs<TrainChunkInput>(context, nameof(TrainBackboneActivity));
        Assert.Equal([(0, 2), (2, 4), (4, 5)], chunks.Select(c => (c.StartEpoch, c.EndEpoch)));
        Assert.All(chunks, c => Assert.Same(Dataset, c.Dataset));
        Assert.Equal([1, 2, 3], context.Calls.Where(c => c.Name == nameof(TrainBackboneActivity)).Select(c => c.DeliveredBefore));

        var backbone = new BackboneReference(Checkpoint(5), Architecture, 5);
        AssertFannedOut(context, nameof(ExtractFeaturesActivity), 3);
        var shards = Inputs<ExtractInput>(context, nameof(ExtractFeaturesActivity));
        Assert.Equal([0, 1, 2], shards.Select(s => s.ShardIndex));
        Assert.All(shards, s => Assert.Equal((backbone, 3), (s.Backbone, s.ShardCount)));

        var planInput = OnlyInput<PlanInput>(context, nameof(PlanAugmentationActivity));
        Assert.Equal((backbone, 3), (planInput.Backbone, planInput.ShardCount));

        AssertFannedOut(context, nameof(FuseTailClassesActivity), 2);
        var batches = Inputs<FuseInput>(context, nameof(FuseTailClassesActivity));
        Assert.Equal([0, 1], batches.Select(b => b.Batch));
        Assert.Equal([[7, 9, 8], [3, 5]], batches.Select(b => b.TailClasses));
        Assert.All(batches, b => Assert.Equal(Plan.PlanInputsPath, b.PlanInputsPath));

        AssertFannedOut(context, nameof(FineTuneHeadActivity), HeadMethods.Trained.Count);
        var heads = Inputs<FineTuneInput>(context, nameof(FineTuneHeadActivity));
        Assert.Equal(TrainedMethods, heads.Select(h => h.Method));
        Assert.All(heads, h => Assert.Same(Plan, h.Plan));
        Assert.All(heads, h => Assert.Equal(backbone, h.Backbone));

        var evaluate = OnlyInput<EvaluateInput>(context, nameof(EvaluateActivity));
        Assert.Equal(backbone, evaluate.Backbone);
        Assert.Same(Plan, evaluate.Plan);
        Assert.Equal(new StageTimings(20 + 40 + 50, 9, 7, 8), evaluate.Timings);

        var promote = OnlyInput<PromoteInput>(context, nameof(PromoteActivity));
        Assert.Same(Evaluation, promote.Evaluation);
        Assert.Equal(backbone, promote.Backbone);

        Assert.Equal(RunId, result.RunId);
        Assert.Equal((Evaluation.ReportPath, Evaluation.MarkdownPath), (result.ReportPath, result.MarkdownPath));
        Assert.Same(Evaluation.Top1, result.Top1);
        Assert.Same(Evaluation.TailTop1, result.TailTop1);
        Assert.Same(Promotion, result.Promotion);

        Assert.Equal(
            ["ValidateDataset", "TrainBackbone", "ExtractFeatures", "PlanAugmentation", "FuseTailClasses", "FineTuneHead", "Evaluate", "Promote", "Completed"],
            Stages(context));
        var statuses = context.CustomStatuses.Cast<RunStatus>().ToList();
        Assert.Equal([(0, 5), (2, 5), (4, 5)], statuses.Where(s => s.Stage == "TrainBackbone").Select(s => (s.StepsDone, s.StepsTotal)));
        // 18 activities (6 of them FineTuneHead), each advancing the orchestration clock by 10 s.
        Assert.Equal(("Completed", "in 180 s", context.UtcNow), (statuses[^1].Stage, statuses[^1].Detail, statuses[^1].UpdatedUtc));
    }

    [Fact]
    public async Task RebalanceRun_ResolvesTheChampionBackbone_InsteadOfTraining()
    {
        var context = Context();

        var result = await context.RunAsync(new FeatureAugOrchestrator(), Request(RunMode.Rebalance));

        string[] expected =
        [
            nameof(ValidateDatasetActivity),
            nameof(ResolveChampionBackboneActivity),
            .. Enumerable.Repeat(nameof(ExtractFeaturesActivity), 3),
            nameof(PlanAugmentationActivity),
            .. Enumerable.Repeat(nameof(FuseTailClassesActivity), 2),
            .. Enumerable.Repeat(nameof(FineTuneHeadActivity), HeadMethods.Trained.Count),
            nameof(EvaluateActivity),
            nameof(PromoteActivity),
        ];
        Assert.Equal(expected, context.Calls.Select(c => c.Name));
        Assert.All(Inputs<ExtractInput>(context, nameof(ExtractFeaturesActivity)), s => Assert.Same(Champion, s.Backbone));
        Assert.Same(Champion, OnlyInput<PlanInput>(context, nameof(PlanAugmentationActivity)).Backbone);
        Assert.All(Inputs<FineTuneInput>(context, nameof(FineTuneHeadActivity)), h => Assert.Same(Champion, h.Backbone));
        var evaluate = OnlyInput<EvaluateInput>(context, nameof(EvaluateActivity));
        Assert.Same(Champion, evaluate.Backbone);
        Assert.Equal(0, evaluate.Timings.Phase1Seconds);
        Assert.Same(Champion, OnlyInput<PromoteInput>(context, nameof(PromoteActivity)).Backbone);
        Assert.Same(Promotion, result.Promotion);
        Assert.Equal(["ValidateDataset", "ResolveChampion", "ExtractFeatures"], Stages(context).Take(3));
    }

    [Fact]
    public async Task RunWithoutModelName_IsNotPromoted()
    {
        var context = Context();

        var result = await context.RunAsync(new FeatureAugOrchestrator(), Request(modelName: ""));

        Assert.Equal(nameof(EvaluateActivity), context.Calls[^1].Name);
        Assert.DoesNotContain(context.Calls, c => c.Name == nameof(PromoteActivity));
        Assert.Null(result.Promotion);
        Assert.Equal(["Evaluate", "Completed"], Stages(context).TakeLast(2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FanOutResults_DoNotDependOnCompletionOrder(bool reverse)
    {
        var context = Context();
        context.CompleteInReverse = reverse;

        await context.RunAsync(new FeatureAugOrchestrator(), Request());

        // Reversed delivery still finds every fan-out scheduled whole before any result arrived.
        AssertFannedOut(context, nameof(ExtractFeaturesActivity), 3);
        AssertFannedOut(context, nameof(FuseTailClassesActivity), 2);
        AssertFannedOut(context, nameof(FineTuneHeadActivity), HeadMethods.Trained.Count);
        // Fused classes arrive as [7, 9, 8] + [3, 5] or [3, 5] + [7, 9, 8]; the next stages get them in class order.
        int[] sorted = [3, 5, 7, 8, 9];
        Assert.All(Inputs<FineTuneInput>(context, nameof(FineTuneHeadActivity)), h => Assert.Equal(sorted, h.Fused.Select(f => f.TailClass)));
        var evaluate = OnlyInput<EvaluateInput>(context, nameof(EvaluateActivity));
        Assert.Equal(sorted, evaluate.Fused.Select(f => f.TailClass));
        Assert.Equal(TrainedMethods, evaluate.Heads.Select(h => h.Method));
        // Parallel stages take as long as their slowest activity.
        Assert.Equal((9.0, 7.0, 8.0), (evaluate.Timings.ExtractSeconds, evaluate.Timings.FuseSeconds, evaluate.Timings.FineTuneSeconds));
    }

    [Theory]
    [InlineData(RunMode.Full)]
    [InlineData(RunMode.Rebalance)]
    public async Task EveryActivity_IsCalledWithTheWorkflowRetryOptions(RunMode mode)
    {
        var context = Context();

        await context.RunAsync(new FeatureAugOrchestrator(), Request(mode));

        Assert.NotNull(WorkflowRetry.Options.Retry?.Policy);
        Assert.All(context.Calls, call => Assert.Same(WorkflowRetry.Options, call.Options));
    }

    [Theory]
    [InlineData(nameof(ValidateDatasetActivity))]
    [InlineData(nameof(TrainBackboneActivity))]
    [InlineData(nameof(ExtractFeaturesActivity))]
    [InlineData(nameof(PlanAugmentationActivity))]
    [InlineData(nameof(FuseTailClassesActivity))]
    [InlineData(nameof(FineTuneHeadActivity))]
    [InlineData(nameof(EvaluateActivity))]
    [InlineData(nameof(PromoteActivity))]
    public async Task ActivityFailure_FailsTheRun_AndNoLaterStageIsCalled(string failing)
    {
        var context = Context().Answer<object, object>(failing, _ => throw new IOException("disk full"));

        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => context.RunAsync(new FeatureAugOrchestrator(), Request()));

        Assert.Equal(failing, failure.TaskName);
        Assert.Equal("disk full", failure.FailureDetails.ErrorMessage);
        // Past the first failing call there are only its fan-out siblings, already scheduled with it.
        int first = context.Calls.ToList().FindIndex(c => c.Name == failing);
        Assert.All(context.Calls.Skip(first), call => Assert.Equal(failing, call.Name));
        Assert.DoesNotContain(Stages(context), stage => stage == "Completed");
    }
}
