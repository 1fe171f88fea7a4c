using System.Diagnostics;
using FeatureAug.Core.Data;
using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Workflow.Storage;
using TorchSharp;

namespace FeatureAug.Workflow;

/// <summary>
/// Step 3: features of the frozen backbone for one shard of the training set. Shards split by class
/// (class c belongs to shard c mod K), so each per-class file is written whole by exactly one activity
/// and fusing a tail class later reads only that class and its confusing classes.
/// </summary>
public sealed class ExtractFeaturesActivity(RunWorkspace workspace, RunProgressHub progress, ActivityExecutionLog executions)
    : FeatureAugActivity<ExtractInput, ExtractResult>(executions)
{
    public static string PartPath(string runId, int shard) => ArtifactPath.Combine(ArtifactPath.RunFeatures(runId), $"part-{shard:D4}.json");

    protected override string RunIdOf(ExtractInput input) => input.Request.RunId;

    protected override async Task<ExtractResult?> TryReuseAsync(ExtractInput input, CancellationToken cancellationToken)
    {
        var part = await workspace.Store.TryReadJsonAsync<ExtractPart>(PartPath(input.Request.RunId, input.ShardIndex), cancellationToken);
        return part is null ? null : new ExtractResult(input.ShardIndex, part.Value.ClassCounts.Sum(), 0, ArtifactPath.RunFeatures(input.Request.RunId));
    }

    protected override async Task<ExtractResult> ComputeAsync(ExtractInput input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var request = input.Request;
        var device = PrepareDevice(request.Execution);
        var split = await workspace.LoadDatasetAsync(request.Dataset, cancellationToken);
        var ownedClasses = Enumerable.Range(0, input.Dataset.Classes.Count).Where(c => c % input.ShardCount == input.ShardIndex).ToArray();
        var owned = new HashSet<int>(ownedClasses);
        int[] globalIndex = Enumerable.Range(0, split.Train.Count).Where(i => owned.Contains(split.Train.Labels[i])).ToArray();
        string prefix = ArtifactPath.RunFeatures(request.RunId);
        var counts = new int[ownedClasses.Length];
        var part = new ExtractPart(input.ShardIndex, ownedClasses, counts, 0, 0, 0, 0, request.Fsa.StoreMapsAsHalf ? "float16" : "float32");
        if (globalIndex.Length > 0)
        {
            using var model = await BackboneLoader.LoadAsync(workspace, input.Backbone, input.Dataset.Channels, input.Dataset.Classes.Count, cancellationToken);
            var subset = split.Train.Subset(globalIndex);
            var normalization = new Normalization(input.Dataset.Mean, input.Dataset.Std);
            progress.Report(new ActivityProgress(request.RunId, "ExtractFeatures", $"shard {input.ShardIndex + 1}/{input.ShardCount}: {subset.Count} images",
                0, subset.Count, null, null, DateTimeOffset.UtcNow));
            using var features = FeatureExtractor.Extract(model, subset, normalization, request.Training.BatchSize, device,
                request.Fsa.Views, new AugmentationOptions(request.Training.CropPadding), request.Execution.Seed, request.Fsa.StoreMapsAsHalf);
            // A backbone that yields NaN or Inf would poison every head trained on its features.
            foreach (var classFeatures in ownedClasses.Select(c => features.Classes[c]))
            {
                using var finite = torch.isfinite(classFeatures.Pooled).all();
                if (!finite.item<bool>())
                    throw new InvalidRunInputException($"features: the backbone produced NaN or Inf features for class {classFeatures.ClassId}; the checkpoint is unusable (diverged training?).");
            }
            string scratch = workspace.NewScratchDirectory(request.RunId, "extract");
            try
            {
                for (int i = 0; i < ownedClasses.Length; i++)
                {
                    var local = features.Classes[ownedClasses[i]];
                    counts[i] = local.Count;
                    // Sample indices refer to the subset; the shard files record training-set indices. The
                    // relabelled view shares the tensors that `features` owns and disposes, so it is not disposed here.
                    var global = new ClassFeatures(local.ClassId, local.SampleIndices.Select(s => globalIndex[s]).ToArray(),
                        local.Pooled, local.Vectors, local.Cams, local.Scores, local.MapHeight, local.MapWidth);
                    string file = Path.Combine(scratch, FeatureShardWriter.ShardName(local.ClassId));
                    await FeatureShardWriter.WriteClassAsync(global, file, request.Fsa.StoreMapsAsHalf, cancellationToken);
                    await workspace.Store.UploadFromFileAsync(ArtifactPath.Combine(prefix, Path.GetFileName(file)), file, cancellationToken);
                    File.Delete(file);
                }
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
            part = part with
            {
                FeatureChannels = features.FeatureChannels, MapHeight = features.MapHeight, MapWidth = features.MapWidth,
                ViewsPerSample = features.ViewsPerSample,
            };
        }
        await workspace.Store.WriteJsonAsync(PartPath(request.RunId, input.ShardIndex), part, cancellationToken);
        return new ExtractResult(input.ShardIndex, globalIndex.Length, stopwatch.Elapsed.TotalSeconds, prefix);
    }
}

/// <summary>
/// Step 4: joins the extraction parts into one feature manifest, then plans: head/tail split, confusing
/// classes and bank sizes. The mean scores are stored so every later activity rebuilds the same plan.
/// </summary>
public sealed class PlanAugmentationActivity(RunWorkspace workspace, ActivityExecutionLog executions)
    : FeatureAugActivity<PlanInput, PlannedAugmentation>(executions)
{
    public static string PlanPath(string runId) => ArtifactPath.Combine(ArtifactPath.RunFeatures(runId), "plan.json");

    public static string PlanInputsPath(string runId) => ArtifactPath.Combine(ArtifactPath.RunFeatures(runId), "plan-inputs.json");

    protected override string RunIdOf(PlanInput input) => input.Request.RunId;

    protected override async Task<PlannedAugmentation?> TryReuseAsync(PlanInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<PlannedAugmentation>(PlanPath(input.Request.RunId), cancellationToken))?.Value;

    protected override async Task<PlannedAugmentation> ComputeAsync(PlanInput input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        string runId = input.Request.RunId, prefix = ArtifactPath.RunFeatures(runId);
        int classes = input.Dataset.Classes.Count;
        var parts = new List<ExtractPart>();
        for (int shard = 0; shard < input.ShardCount; shard++)
            parts.Add(await workspace.Store.ReadJsonAsync<ExtractPart>(ExtractFeaturesActivity.PartPath(runId, shard), cancellationToken));
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
        await workspace.Store.WriteJsonAsync(PlanInputsPath(runId), new PlanInputs(counts, confusing), cancellationToken);
        var sizes = BankSizing.PlannedSizes(plan);
        var result = new PlannedAugmentation(plan.Split.HeadClasses, plan.FusedClasses.ToArray(), confusing,
            sizes.ToDictionary(kv => kv.Key, kv => kv.Value), PlanInputsPath(runId), stopwatch.Elapsed.TotalSeconds);
        await workspace.Store.WriteJsonAsync(PlanPath(runId), result, cancellationToken);
        return result;
    }
}

/// <summary>
/// Step 5: the fusion banks of a share of the tail classes (the fan-out; see <see cref="FusionBatches"/>). Each
/// class's bank and result are stored as soon as it is fused, so an activity that is retried or resumed after a
/// crash fuses only the classes it had not finished.
/// </summary>
public sealed class FuseTailClassesActivity(RunWorkspace workspace, RunProgressHub progress, ActivityExecutionLog executions)
    : FeatureAugActivity<FuseInput, FuseBatchResult>(executions)
{
    public static string BankPath(string runId, int tailClass) => ArtifactPath.Combine(ArtifactPath.RunFused(runId), $"class-{tailClass:D4}.safetensors");

    public static string ResultPath(string runId, int tailClass) => ArtifactPath.Combine(ArtifactPath.RunFused(runId), $"class-{tailClass:D4}.json");

    protected override string RunIdOf(FuseInput input) => input.Request.RunId;

    protected override async Task<FuseBatchResult?> TryReuseAsync(FuseInput input, CancellationToken cancellationToken)
    {
        var results = new List<FuseResult>();
        foreach (int tailClass in input.TailClasses)
        {
            var stored = await workspace.Store.TryReadJsonAsync<FuseResult>(ResultPath(input.Request.RunId, tailClass), cancellationToken);
            if (stored is null) return null;
            results.Add(stored.Value);
        }
        return new FuseBatchResult(input.Batch, results, 0);
    }

    protected override async Task<FuseBatchResult> ComputeAsync(FuseInput input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        string runId = input.Request.RunId, prefix = ArtifactPath.RunFeatures(runId);
        var inputs = await workspace.Store.ReadJsonAsync<PlanInputs>(input.PlanInputsPath, cancellationToken);
        var plan = AugmentationPlan.Rebuild(inputs.ClassCounts, inputs.ConfusingClasses, input.Request.Fsa, input.Request.Execution.Seed);
        var results = new List<FuseResult>();
        for (int i = 0; i < input.TailClasses.Length; i++)
        {
            int tailClass = input.TailClasses[i];
            var stored = await workspace.Store.TryReadJsonAsync<FuseResult>(ResultPath(runId, tailClass), cancellationToken);
            results.Add(stored?.Value ?? await FuseAsync(input.Request, prefix, tailClass, plan, cancellationToken));
            progress.Report(new ActivityProgress(runId, "FuseTailClasses", $"batch {input.Batch + 1}: class {tailClass} fused",
                i + 1, input.TailClasses.Length, null, null, DateTimeOffset.UtcNow));
        }
        return new FuseBatchResult(input.Batch, results, stopwatch.Elapsed.TotalSeconds);
    }

    private async Task<FuseResult> FuseAsync(RunRequest request, string prefix, int tailClass, AugmentationPlan plan, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        int[] confusingClasses = plan.ConfusingClasses[tailClass];
        // Only this class, its confusing classes and the manifest are brought local.
        var files = confusingClasses.Prepend(tailClass).Select(FeatureShardWriter.ShardName).Append(FeatureShardManifest.FileName);
        var reader = FeatureShardReader.Open(await workspace.GetLocalFilesAsync(prefix, files, cancellationToken));
        using var tail = reader.ReadClass(tailClass);
        var confusing = confusingClasses.Select(reader.ReadClass).ToList();
        try
        {
            using var bank = FeatureFusion.FuseTailClass(plan, tail, confusing);
            string scratch = workspace.NewScratchDirectory(request.RunId, "fuse");
            try
            {
                string file = Path.Combine(scratch, "bank.safetensors");
                await FeatureShardWriter.WriteBankAsync(bank, file, cancellationToken);
                await workspace.Store.UploadFromFileAsync(BankPath(request.RunId, tailClass), file, cancellationToken);
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
            var result = new FuseResult(tailClass, bank.Count, bank.Statistics.Fallbacks, stopwatch.Elapsed.TotalSeconds, BankPath(request.RunId, tailClass));
            await workspace.Store.WriteJsonAsync(ResultPath(request.RunId, tailClass), result, cancellationToken);
            return result;
        }
        finally
        {
            foreach (var features in confusing) features.Dispose();
        }
    }
}
