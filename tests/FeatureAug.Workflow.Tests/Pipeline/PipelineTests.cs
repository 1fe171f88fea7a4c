using FeatureAug.Core.Data;
using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Testing;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Workflow.Tests.Pipeline;

/// <summary>The whole orchestration on the embedded engine with the local store, on a tiny long-tailed set.</summary>
public sealed class PipelineTests() : LocalPipelineTest("pipeline")
{
    [Fact]
    public async Task FullRunReportsEveryMethodAndMakesTheFirstChampion()
    {
        var (instance, executions) = await PipelineHarness.RunAsync(Options, TinyDataset.Request("full-1", DataDir));

        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
        var result = instance.ReadOutputAs<RunResult>()!;
        Assert.Equal(HeadMethods.Keys.OrderBy(m => m), result.Top1.Keys.OrderBy(m => m));
        Assert.All(result.Top1.Values, top1 => Assert.InRange(top1, 0.0, 1.0));

        var report = RunReport.FromJson(await ReadTextAsync(result.ReportPath));
        Assert.Equal(new[] { 0, 1, 2 }, report.Split.HeadClasses);
        Assert.Equal(new[] { 3, 4 }, report.Split.TailClasses);
        Assert.Equal(new[] { "3", "4" }, report.ConfusingClasses.Keys.OrderBy(k => k));
        Assert.All(report.ConfusingClasses.Values, confusing => Assert.Equal(2, confusing.Length));
        Assert.All(report.Fusion!.BankSizes.Values, size => Assert.True(size > 0));
        // ceil(10 %) of every class is held out of Phase I and Phase II as the validation split.
        Assert.Equal(new[] { 8, 4, 2, 1, 1 }, report.Dataset.ValidationCounts);
        Assert.Equal(TinyDataset.TrainCounts, report.Dataset.TrainCounts.Zip(report.Dataset.ValidationCounts, (t, v) => t + v));
        Assert.Equal(ValidationSplit.FromTraining, report.Dataset.ValidationSource);
        // Every head is measured on validation; the candidate is the best there, and it is what was exported and promoted.
        Assert.All(report.Methods.Values, m => Assert.NotNull(m.ValidationTop1));
        var candidate = report.Candidate!;
        Assert.Equal("validation", candidate.ChosenBy);
        Assert.Equal(report.Methods.Values.Max(m => m.ValidationTop1), report.Methods[candidate.Method].ValidationTop1);
        Assert.All(HeadMethods.Trained, m => Assert.Equal(9, report.Methods[m.Key()].Configuration!.Tried.Count));   // 3 rates x 3 snapshots
        foreach (string file in new[] { "report.md", "class-distribution.png", "per-class-accuracy.png", "feature-pca.png" })
            Assert.True(await Store.ExistsAsync(ArtifactPath.Combine(new RunLayout("full-1").Reports, file), default), file);
        Assert.True(await Store.ExistsAsync(new RunLayout("full-1").Model, default));

        // Two epoch chunks, one per activity; each computed exactly once.
        Assert.Equal(2, executions.ComputedCount("full-1", nameof(TrainBackboneActivity)));
        Assert.Equal(2, executions.ComputedCount("full-1", nameof(FuseTailClassesActivity)));
        Assert.Equal(HeadMethods.Trained.Count, executions.ComputedCount("full-1", nameof(FineTuneHeadActivity)));

        var champion = await new ModelRegistry(Store).GetChampionAsync("tiny-model", default);
        Assert.NotNull(champion);
        Assert.Equal("full-1", champion!.RunId);
        Assert.Equal(candidate.Method, champion.Method);
        Assert.Equal(new RunLayout("full-1").Head(candidate.Method), champion.HeadPath);
        Assert.Equal(candidate.Reason, champion.ChosenBecause);
        Assert.True(result.Promotion!.Promoted);
    }

    [Fact]
    public async Task HalfPrecisionMapsAndExtraViewsRunThroughTheWholeWorkflow()
    {
        var request = TinyDataset.Request("views-1", DataDir);
        request = request with { Fsa = request.Fsa with { Views = 2, StoreMapsAsHalf = true } };
        var (instance, _) = await PipelineHarness.RunAsync(Options, request);

        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
        var manifest = await Store.ReadJsonAsync<FeatureAug.Core.Formats.FeatureShardManifest>(
            ArtifactPath.Combine(new RunLayout("views-1").Features, FeatureAug.Core.Formats.FeatureShardManifest.FileName), default);
        Assert.Equal(3, manifest.ViewsPerSample); // the clean view and two augmented ones
        Assert.Equal("float16", manifest.VectorsDType);
        Assert.Equal(new[] { 72, 36, 14, 7, 5 }, manifest.ClassCounts);   // the validation images held out
    }

    [Fact]
    public async Task RerunningAFinishedRunIdDoesNoWork()
    {
        var request = TinyDataset.Request("rerun-1", DataDir);
        var (first, _) = await PipelineHarness.RunAsync(Options, request);
        Assert.True(first.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(first));

        // A new engine (as after a restart) replays the run from the start against the same Store.
        var (second, executions) = await PipelineHarness.RunAsync(Options, request);
        Assert.True(second.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(second));
        Assert.Equal(0, executions.TotalComputed("rerun-1"));
        Assert.True(executions.ReusedCount("rerun-1", nameof(TrainBackboneActivity)) == 2);
        Assert.Equal(first.ReadOutputAs<RunResult>()!.Top1, second.ReadOutputAs<RunResult>()!.Top1);
    }

    [Fact]
    public async Task TailClassesAreFusedInParallel()
    {
        // Larger banks so each fusion takes long enough for the overlap to be observable.
        var request = TinyDataset.Request("fanout-1", DataDir) with
        {
            Fsa = TinyDataset.Request("x", DataDir).Fsa with { FineTuneIterations = 4000 },
        };
        var (instance, executions) = await PipelineHarness.RunAsync(Options, request, concurrency: 2);
        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
        var intervals = executions.Intervals("fanout-1", nameof(FuseTailClassesActivity));
        Assert.Equal(2, intervals.Count);
        Assert.True(intervals[0].Start < intervals[1].End && intervals[1].Start < intervals[0].End,
            $"fusions did not overlap: {intervals[0].Start:O}-{intervals[0].End:O} and {intervals[1].Start:O}-{intervals[1].End:O}");
    }

    [Fact]
    public async Task TailClassesBatchedIntoOneActivityGiveEachClassItsOwnBank_AndAResumedBatchFusesOnlyWhatIsMissing()
    {
        var batched = TinyDataset.Request("batch-one", DataDir);
        batched = batched with { Execution = batched.Execution with { FuseActivities = 1 } };

        var (run, executions) = await PipelineHarness.RunAsync(Options, batched);

        Assert.True(run.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(run));
        Assert.Equal(1, executions.ComputedCount("batch-one", nameof(FuseTailClassesActivity)));
        // Each stored bank is what fusing that class alone gives, from the run's own shards and plan inputs.
        var inputs = await Store.ReadJsonAsync<PlanInputs>(new RunLayout("batch-one").PlanInputs, default);
        var plan = AugmentationPlan.Rebuild(inputs.ClassCounts, inputs.ConfusingClasses, batched.Fsa, batched.Execution.Seed);
        var reader = FeatureShardReader.Open(Path.GetDirectoryName(
            Store.GetFilePath(ArtifactPath.Combine(new RunLayout("batch-one").Features, FeatureShardManifest.FileName)))!);
        Assert.Equal(new[] { 3, 4 }, plan.FusedClasses);
        foreach (int tail in plan.FusedClasses)
        {
            using var tailFeatures = reader.ReadClass(tail);
            var confusing = plan.ConfusingClasses[tail].Select(reader.ReadClass).ToList();
            using var alone = FeatureFusion.FuseTailClass(plan, tailFeatures, confusing);
            using var stored = FeatureShardReader.ReadBank(Store.GetFilePath(new RunLayout("batch-one").FusionBank(tail)));
            Assert.Equal(alone.Features.shape, stored.Features.shape);
            Assert.Equal(alone.Features.data<float>().ToArray(), stored.Features.data<float>().ToArray());
            Assert.Equal(alone.Statistics, stored.Statistics);
            confusing.ForEach(c => c.Dispose());
        }

        // As if the batch had been killed after its first class: only class 4's bank is fused again, the same bytes.
        var class3 = (await Store.GetPropertiesAsync(new RunLayout("batch-one").FusionBank(3), default))!.ETag;
        byte[] class4 = await ReadBytesAsync(new RunLayout("batch-one").FusionBank(4));
        await Store.DeleteAsync(new RunLayout("batch-one").FusionResult(4), default);
        await Store.DeleteAsync(new RunLayout("batch-one").FusionBank(4), default);
        var (resumed, resumedExecutions) = await PipelineHarness.RunAsync(Options, batched);

        Assert.True(resumed.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(resumed));
        Assert.Equal(1, resumedExecutions.ComputedCount("batch-one", nameof(FuseTailClassesActivity)));
        Assert.Equal(class3, (await Store.GetPropertiesAsync(new RunLayout("batch-one").FusionBank(3), default))!.ETag);
        Assert.Equal(class4, await ReadBytesAsync(new RunLayout("batch-one").FusionBank(4)));
        Assert.Equal(run.ReadOutputAs<RunResult>()!.Top1, resumed.ReadOutputAs<RunResult>()!.Top1);
    }

    [Fact]
    public async Task ATransientStorageFaultIsRetriedAndTheRunCompletes()
    {
        // A directory where the plan document must go makes the write fail, as a storage hiccup would;
        // it disappears a second later, before the first retry (2 s backoff).
        string blocker = Store.GetFilePath(new RunLayout("transient-1").Plan);
        Directory.CreateDirectory(blocker);
        var request = TinyDataset.Request("transient-1", DataDir);
        var run = PipelineHarness.RunAsync(Options, request);
        await WaitUntilAsync(() => Store.ExistsAsync(new RunLayout("transient-1").ExtractPart(1), default));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Directory.Delete(blocker);
        var (instance, executions) = await run;

        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
        Assert.True(executions.Intervals("transient-1", nameof(PlanAugmentationActivity)).Count >= 2, "the failed attempt was not retried");
        Assert.Equal(1, executions.ComputedCount("transient-1", nameof(PlanAugmentationActivity)));
    }

    [Fact]
    public async Task AFaultThatPersistsFailsTheRunWithItsReason()
    {
        Directory.CreateDirectory(Store.GetFilePath(new RunLayout("stuck-1").Plan));
        var (instance, executions) = await PipelineHarness.RunAsync(Options, TinyDataset.Request("stuck-1", DataDir));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, instance.RuntimeStatus);
        Assert.Contains("plan.json", PipelineHarness.Failure(instance));
        Assert.Equal(4, executions.Intervals("stuck-1", nameof(PlanAugmentationActivity)).Count); // every attempt of the policy
    }

    [Fact]
    public async Task BadDataFailsAtValidationWithoutRetries()
    {
        string bad = Path.Combine(Root, "bad");
        TinyDataset.Write(bad);
        string labels = Path.Combine(bad, "train-labels-idx1-ubyte");
        File.WriteAllBytes(labels, File.ReadAllBytes(labels)[..^5]); // truncated label file

        var (instance, executions) = await PipelineHarness.RunAsync(Options, TinyDataset.Request("bad-1", bad));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, instance.RuntimeStatus);
        string failure = PipelineHarness.Failure(instance);
        Assert.Contains("train-labels-idx1-ubyte", failure);
        Assert.Contains(nameof(InvalidRunInputException), failure);
        Assert.Single(executions.Intervals("bad-1", nameof(ValidateDatasetActivity)));
        Assert.Equal(0, executions.TotalComputed("bad-1"));
    }

    [Fact]
    public async Task ARebalanceRunThatDoesNotBeatTheChampionLeavesItInPlace()
    {
        var (full, _) = await PipelineHarness.RunAsync(Options, TinyDataset.Request("champ-1", DataDir, modelName: "guarded"));
        Assert.True(full.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(full));
        var registry = new ModelRegistry(Store);
        var before = await registry.GetChampionAsync("guarded", default);

        // No head can beat the champion by 99 points: the challenger must lose.
        var rebalance = TinyDataset.Request("rebal-1", DataDir, RunMode.Rebalance, "guarded");
        rebalance = rebalance with { Execution = rebalance.Execution with { PromotionMargin = 0.99 } };
        var (instance, executions) = await PipelineHarness.RunAsync(Options, rebalance);

        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
        Assert.Equal(0, executions.ComputedCount("rebal-1", nameof(TrainBackboneActivity)));
        var decision = instance.ReadOutputAs<RunResult>()!.Promotion!;
        Assert.False(decision.Promoted);
        Assert.NotNull(decision.ChampionTop1); // measured on the same test data, on the shared backbone
        Assert.Equal(before, await registry.GetChampionAsync("guarded", default));
        Assert.Single(await registry.HistoryAsync("guarded", default));
    }

    private async Task<string> ReadTextAsync(string path)
    {
        await using var stream = await Store.OpenReadAsync(path, default);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    private Task<byte[]> ReadBytesAsync(string path) => File.ReadAllBytesAsync(Store.GetFilePath(path));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + PipelineHarness.Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(50);
        }
    }
}
