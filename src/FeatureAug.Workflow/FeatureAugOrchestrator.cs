using FeatureAug.Core.Fsa;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using Microsoft.DurableTask;

namespace FeatureAug.Workflow;

/// <summary>
/// One FeatureAug run: validate, train the backbone in epoch chunks, extract features (fan-out over
/// shards), plan, fuse the tail classes (fan-out, batched), re-train the heads (fan-out over methods), evaluate,
/// and in Rebalance mode promote the new head when it beats the champion. Messages carry artifact
/// paths and small records only; tensors stay in the artifact store.
/// </summary>
public sealed class FeatureAugOrchestrator : TaskOrchestrator<RunRequest, RunResult>
{
    public const string Name = nameof(FeatureAugOrchestrator);

    public override async Task<RunResult> RunAsync(TaskOrchestrationContext context, RunRequest request)
    {
        var retry = WorkflowRetry.Options;
        var started = context.CurrentUtcDateTime;
        void Status(string stage, string detail, int done, int total, DateTime? eta = null) =>
            context.SetCustomStatus(new RunStatus(stage, detail, done, total, context.CurrentUtcDateTime, eta));

        Status("ValidateDataset", "checking class counts and split", 0, 1);
        var dataset = await context.CallActivityAsync<DatasetSummary>(nameof(ValidateDatasetActivity), request, retry);

        BackboneReference backbone;
        double phase1Seconds = 0;
        if (request.Mode == RunMode.Full)
        {
            int epochs = request.Training.Epochs, chunk = Math.Max(1, request.Execution.EpochsPerActivity);
            TrainChunkResult? last = null;
            var trainingStarted = context.CurrentUtcDateTime;
            for (int start = 0; start < epochs; start += chunk)
            {
                int end = Math.Min(epochs, start + chunk);
                DateTime? eta = null;
                if (start > 0)
                {
                    var perEpoch = (context.CurrentUtcDateTime - trainingStarted) / start;
                    eta = context.CurrentUtcDateTime + perEpoch * (epochs - start);
                }
                Status("TrainBackbone", $"epochs {start + 1}-{end} of {epochs}" + (last is null ? "" : $", loss {last.LastLoss:F4}"), start, epochs, eta);
                last = await context.CallActivityAsync<TrainChunkResult>(
                    nameof(TrainBackboneActivity), new TrainChunkInput(request, dataset, start, end), retry);
                phase1Seconds += last.Seconds;
            }
            backbone = new BackboneReference(last!.CheckpointPath, request.Architecture, epochs);
        }
        else
        {
            Status("ResolveChampion", $"backbone of model {request.ModelName}", 0, 1);
            backbone = await context.CallActivityAsync<BackboneReference>(nameof(ResolveChampionBackboneActivity), request, retry);
        }

        int shards = Math.Max(1, request.Execution.ExtractShards);
        Status("ExtractFeatures", $"{shards} shards", 0, shards);
        var extracted = await Task.WhenAll(Enumerable.Range(0, shards).Select(shard =>
            context.CallActivityAsync<ExtractResult>(nameof(ExtractFeaturesActivity),
                new ExtractInput(request, dataset, backbone, shard, shards), retry)));
        double extractSeconds = extracted.Max(e => e.Seconds);

        Status("PlanAugmentation", "head/tail split, confusing classes, bank sizes", 0, 1);
        var plan = await context.CallActivityAsync<PlannedAugmentation>(nameof(PlanAugmentationActivity),
            new PlanInput(request, dataset, backbone, shards), retry);

        int tailCount = plan.TailClasses.Length;
        var batches = FusionBatches.Assign(plan.TailClasses, request.Execution.FuseActivities);
        Status("FuseTailClasses", $"{tailCount} tail classes in {batches.Count} activities", 0, tailCount);
        var pending = batches.Select((classes, batch) => context.CallActivityAsync<FuseBatchResult>(nameof(FuseTailClassesActivity),
            new FuseInput(request, dataset, batch, classes, plan.PlanInputsPath),
            retry)).ToList();
        var fused = new List<FuseResult>();
        double fuseSeconds = 0;
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            var batchResult = await done;
            fused.AddRange(batchResult.Classes);
            fuseSeconds = Math.Max(fuseSeconds, batchResult.Seconds);
            Status("FuseTailClasses", $"{fused.Count} of {tailCount} tail classes fused", fused.Count, tailCount);
        }
        fused.Sort((a, b) => a.TailClass.CompareTo(b.TailClass));

        var trainedMethods = HeadMethods.Trained;
        Status("FineTuneHead", string.Join(", ", trainedMethods.Select(m => m.Display())), 0, trainedMethods.Count);
        var heads = await Task.WhenAll(trainedMethods.Select(method => context.CallActivityAsync<HeadResult>(
            nameof(FineTuneHeadActivity), new FineTuneInput(request, dataset, backbone, plan, fused, method.Key(), shards), retry)));
        double fineTuneSeconds = heads.Max(h => h.Seconds);

        Status("Evaluate", "test accuracy of every method, report", 0, 1);
        var timings = new StageTimings(phase1Seconds, extractSeconds, fuseSeconds, fineTuneSeconds);
        var evaluation = await context.CallActivityAsync<EvaluateResult>(nameof(EvaluateActivity),
            new EvaluateInput(request, dataset, backbone, plan, fused, heads, timings, shards), retry);

        PromotionDecision? promotion = null;
        if (!string.IsNullOrEmpty(request.ModelName))
        {
            Status("Promote", $"model {request.ModelName}", 0, 1);
            promotion = await context.CallActivityAsync<PromotionDecision>(nameof(PromoteActivity),
                new PromoteInput(request, evaluation, backbone), retry);
        }

        Status("Completed", $"in {(context.CurrentUtcDateTime - started).TotalSeconds:F0} s", 1, 1);
        return new RunResult(request.RunId, evaluation.ReportPath, evaluation.MarkdownPath, evaluation.Top1, evaluation.TailTop1, promotion);
    }
}

/// <summary>What the orchestration returns.</summary>
public sealed record RunResult(string RunId, string ReportPath, string MarkdownPath, IReadOnlyDictionary<string, double> Top1, IReadOnlyDictionary<string, double> TailTop1, PromotionDecision? Promotion);

/// <summary>The orchestration's custom status: what the run is doing now.</summary>
public sealed record RunStatus(string Stage, string Detail, int StepsDone, int StepsTotal, DateTime UpdatedUtc, DateTime? EtaUtc);

/// <summary>Retries with exponential backoff for transient failures; bad input is never retried.</summary>
public static class WorkflowRetry
{
    public static TaskOptions Options { get; } = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 4,
        firstRetryInterval: TimeSpan.FromSeconds(2),
        backoffCoefficient: 2.0,
        maxRetryInterval: TimeSpan.FromSeconds(30))
    {
        HandleFailure = failure => !failure.IsCausedBy<InvalidRunInputException>(),
    });
}
