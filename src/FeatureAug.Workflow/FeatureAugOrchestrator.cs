using FeatureAug.Core.Reporting;
using Microsoft.DurableTask;

namespace FeatureAug.Workflow;

/// <summary>
/// One FeatureAug run: validate, train the backbone in epoch chunks, extract features (fan-out over
/// shards), plan, fuse each tail class (fan-out), re-train the heads (fan-out over methods), evaluate,
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
            int epochs = request.Training.Epochs, chunk = Math.Max(1, request.Training.EpochsPerActivity);
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
        var plan = await context.CallActivityAsync<AugmentationPlan>(nameof(PlanAugmentationActivity),
            new PlanInput(request, dataset, backbone, shards), retry);

        Status("FuseTailClasses", $"{plan.TailClasses.Length} tail classes", 0, plan.TailClasses.Length);
        var fuseTasks = plan.TailClasses.Select(tail => context.CallActivityAsync<FuseResult>(nameof(FuseTailClassActivity),
            new FuseInput(request, dataset, tail, plan.ConfusingClasses[tail], plan.BankSizes[tail], plan.PlanInputsPath), retry)).ToList();
        var fused = new List<FuseResult>();
        var pending = new List<Task<FuseResult>>(fuseTasks);
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            fused.Add(await done);
            Status("FuseTailClasses", $"{fused.Count} of {plan.TailClasses.Length} tail classes fused", fused.Count, plan.TailClasses.Length);
        }
        fused.Sort((a, b) => a.TailClass.CompareTo(b.TailClass));
        double fuseSeconds = fused.Count == 0 ? 0 : fused.Max(f => f.Seconds);

        var trainedMethods = new[]
        {
            MethodNames.NoAugmentation, MethodNames.ClassifierRetraining, MethodNames.FeatureSpaceAugmentation,
        };
        Status("FineTuneHead", string.Join(", ", trainedMethods.Select(MethodNames.Display)), 0, trainedMethods.Length);
        var heads = await Task.WhenAll(trainedMethods.Select(method => context.CallActivityAsync<HeadResult>(
            nameof(FineTuneHeadActivity), new FineTuneInput(request, dataset, backbone, plan, fused, method, shards), retry)));
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

/// <summary>Input a user must fix (bad data, bad options): retrying cannot help.</summary>
public sealed class InvalidRunInputException(string message, Exception? inner = null) : Exception(message, inner);
