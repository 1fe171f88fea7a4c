using System.Diagnostics;
using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

public sealed record PlanInput(RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, int ShardCount);

/// <summary>
/// The head/tail split, each tail class's confusing classes and its fusion bank size; Adaptations: where the defaults
/// were adapted to the data set (<see cref="AugmentationPlan.Adaptations"/>).
/// </summary>
public sealed record PlannedAugmentation(
    int[] HeadClasses,
    int[] TailClasses,
    IReadOnlyDictionary<int, int[]> ConfusingClasses,
    IReadOnlyDictionary<int, int> BankSizes,
    string PlanInputsPath,
    double Seconds,
    IReadOnlyList<string>? Adaptations = null);

/// <summary>
/// What rebuilds the exact <c>AugmentationPlan</c> in any activity: the class counts and the confusing classes ranked by
/// PlanAugmentation (T x N_f numbers; the C x C mean scores they were ranked from stay in that one activity).
/// </summary>
public sealed record PlanInputs(int[] ClassCounts, IReadOnlyDictionary<int, int[]> ConfusingClasses);

/// <summary>
/// Step 4: joins the extraction parts into one feature manifest, then plans: head/tail split, confusing
/// classes and bank sizes. The mean scores are stored so every later activity rebuilds the same plan.
/// </summary>
public sealed class PlanAugmentationActivity(RunWorkspace workspace, StageServices services)
    : StageActivity<PlanInput, PlannedAugmentation>(services)
{
    protected override string RunIdOf(PlanInput input) => input.Request.RunId;

    protected override async Task<PlannedAugmentation?> TryReuseAsync(PlanInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<PlannedAugmentation>(new RunLayout(input.Request.RunId).Plan, cancellationToken))?.Value;

    protected override async Task<PlannedAugmentation> ComputeAsync(PlanInput input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var layout = new RunLayout(input.Request.RunId);
        string prefix = layout.Features;
        int classes = input.Dataset.Classes.Count;
        var parts = new List<ExtractPart>();
        for (int shard = 0; shard < input.ShardCount; shard++)
            parts.Add(await workspace.Store.ReadJsonAsync<ExtractPart>(layout.ExtractPart(shard), cancellationToken));
        var shape = parts.First(p => p.ClassCounts.Sum() > 0);
        var counts = new int[classes];
        foreach (var part in parts)
            for (int i = 0; i < part.Classes.Length; i++) counts[part.Classes[i]] = part.ClassCounts[i];
        var manifest = new FeatureShardManifest(FeatureShardManifest.CurrentFormatVersion, classes, shape.FeatureChannels,
            shape.MapHeight, shape.MapWidth, shape.ViewsPerSample, shape.VectorsDType, counts,
            Enumerable.Range(0, classes).Select(FeatureShardWriter.ShardName).ToArray());
        await workspace.Store.WriteJsonAsync(ArtifactPath.Combine(prefix, FeatureShardManifest.FileName), manifest, cancellationToken);

        var reader = FeatureShardReader.Open(await workspace.GetLocalDirectoryAsync(prefix, cancellationToken));
        // Confusing classes are ranked on the tail classes' rows of mean scores only (T x C, not C x C).
        var tailClasses = ClassSplit.FromCounts(counts, input.Request.Fsa.HeadRatio).TailClasses;
        var plan = AugmentationPlan.Create(counts, reader.ReadMeanScores(tailClasses), input.Request.Fsa, input.Request.Execution.Seed);
        var confusing = plan.ConfusingClasses.ToDictionary(kv => kv.Key, kv => kv.Value);
        await workspace.Store.WriteJsonAsync(layout.PlanInputs, new PlanInputs(counts, confusing), cancellationToken);
        var sizes = BankSizing.PlannedSizes(plan);
        var result = new PlannedAugmentation(plan.Split.HeadClasses, plan.FusedClasses.ToArray(), confusing,
            sizes.ToDictionary(kv => kv.Key, kv => kv.Value), layout.PlanInputs, stopwatch.Elapsed.TotalSeconds, plan.Adaptations);
        await workspace.Store.WriteJsonAsync(layout.Plan, result, cancellationToken);
        return result;
    }
}
