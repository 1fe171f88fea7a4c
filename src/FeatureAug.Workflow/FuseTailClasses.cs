using System.Diagnostics;
using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

/// <summary>One fusion activity's share of the tail classes; the plan inputs give each one's draws and confusing classes.</summary>
public sealed record FuseInput(RunRequest Request, DatasetSummary Dataset, int Batch, int[] TailClasses, string PlanInputsPath);

public sealed record FuseResult(int TailClass, int Fused, int Fallbacks, double Seconds, string Path);

/// <summary>The banks of one fusion activity's tail classes; Seconds is the activity's own wall time.</summary>
public sealed record FuseBatchResult(int Batch, IReadOnlyList<FuseResult> Classes, double Seconds);

/// <summary>
/// How the tail classes are dealt to fusion activities. One activity per class costs the Durable engine a
/// fixed dispatch overhead per class (about 250 ms on the embedded engine of a 2-core machine; a queue round
/// trip on Azure Storage), which dominates at thousands of tail classes; so at most
/// <see cref="ExecutionSettings.FuseActivities"/> activities are fanned out and each fuses its share one class
/// after another. Round-robin over the plan's order, so rare and frequent classes mix in every share.
/// Each class's bank depends only on that class (its own seed and draws), so the grouping changes no result.
/// </summary>
public static class FusionBatches
{
    public static IReadOnlyList<int[]> Assign(IReadOnlyList<int> tailClasses, int maxActivities)
    {
        ArgumentNullException.ThrowIfNull(tailClasses);
        if (maxActivities < 1)
            throw new ArgumentOutOfRangeException(nameof(maxActivities), maxActivities, "At least one fusion activity is needed.");
        int count = Math.Min(tailClasses.Count, maxActivities);
        return Enumerable.Range(0, count)
            .Select(batch => tailClasses.Where((_, position) => position % count == batch).ToArray())
            .ToList();
    }
}

/// <summary>
/// Step 5: the fusion banks of a share of the tail classes (the fan-out; see <see cref="FusionBatches"/>). Each
/// class's bank and result are stored as soon as it is fused, so an activity that is retried or resumed after a
/// crash fuses only the classes it had not finished.
/// </summary>
public sealed class FuseTailClassesActivity(RunWorkspace workspace, RunProgressHub progress, StageServices services)
    : StageActivity<FuseInput, FuseBatchResult>(services)
{
    protected override string RunIdOf(FuseInput input) => input.Request.RunId;

    protected override async Task<FuseBatchResult?> TryReuseAsync(FuseInput input, CancellationToken cancellationToken)
    {
        var results = new List<FuseResult>();
        foreach (int tailClass in input.TailClasses)
        {
            var stored = await workspace.Store.TryReadJsonAsync<FuseResult>(new RunLayout(input.Request.RunId).FusionResult(tailClass), cancellationToken);
            if (stored is null) return null;
            results.Add(stored.Value);
        }
        return new FuseBatchResult(input.Batch, results, 0);
    }

    protected override async Task<FuseBatchResult> ComputeAsync(FuseInput input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var layout = new RunLayout(input.Request.RunId);
        string runId = layout.RunId, prefix = layout.Features;
        var inputs = await workspace.Store.ReadJsonAsync<PlanInputs>(input.PlanInputsPath, cancellationToken);
        var plan = AugmentationPlan.Rebuild(inputs.ClassCounts, inputs.ConfusingClasses, input.Request.Fsa, input.Request.Execution.Seed);
        var results = new List<FuseResult>();
        for (int i = 0; i < input.TailClasses.Length; i++)
        {
            int tailClass = input.TailClasses[i];
            var stored = await workspace.Store.TryReadJsonAsync<FuseResult>(layout.FusionResult(tailClass), cancellationToken);
            results.Add(stored?.Value ?? await FuseAsync(input.Request, layout, tailClass, plan, cancellationToken));
            progress.Report(new ActivityProgress(runId, "FuseTailClasses", $"batch {input.Batch + 1}: class {tailClass} fused",
                i + 1, input.TailClasses.Length, null, null, DateTimeOffset.UtcNow));
        }
        return new FuseBatchResult(input.Batch, results, stopwatch.Elapsed.TotalSeconds);
    }

    private async Task<FuseResult> FuseAsync(RunRequest request, RunLayout layout, int tailClass, AugmentationPlan plan, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        int[] confusingClasses = plan.ConfusingClasses[tailClass];
        // Only this class, its confusing classes and the manifest are brought local.
        var files = confusingClasses.Prepend(tailClass).Select(FeatureShardWriter.ShardName).Append(FeatureShardManifest.FileName);
        var reader = FeatureShardReader.Open(await workspace.GetLocalFilesAsync(layout.Features, files, cancellationToken));
        using var tail = reader.ReadClass(tailClass);
        var confusing = confusingClasses.Select(reader.ReadClass).ToList();
        try
        {
            using var bank = FeatureFusion.FuseTailClass(plan, tail, confusing);
            using (var scratch = workspace.NewScratchDirectory(request.RunId, "fuse"))
            {
                string file = scratch.File("bank.safetensors");
                await FeatureShardWriter.WriteBankAsync(bank, file, cancellationToken);
                await workspace.Store.UploadFromFileAsync(layout.FusionBank(tailClass), file, cancellationToken);
            }
            var result = new FuseResult(tailClass, bank.Count, bank.Statistics.Fallbacks, stopwatch.Elapsed.TotalSeconds, layout.FusionBank(tailClass));
            await workspace.Store.WriteJsonAsync(layout.FusionResult(tailClass), result, cancellationToken);
            return result;
        }
        finally
        {
            foreach (var features in confusing) features.Dispose();
        }
    }
}
