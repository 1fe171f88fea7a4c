using System.Diagnostics;
using FeatureAug.Core;
using FeatureAug.Core.Data;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

public sealed record ExtractInput(RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, int ShardIndex, int ShardCount);

public sealed record ExtractResult(int ShardIndex, int Samples, double Seconds, string Prefix);

/// <summary>Classes one extraction activity covered and what it wrote.</summary>
public sealed record ExtractPart(int ShardIndex, int[] Classes, int[] ClassCounts, int FeatureChannels, int MapHeight, int MapWidth, int ViewsPerSample, string VectorsDType);

/// <summary>
/// Step 3: features of the frozen backbone for one shard of the training set. Shards split by class
/// (class c belongs to shard c mod K), so each per-class file is written whole by exactly one activity
/// and fusing a tail class later reads only that class and its confusing classes.
/// </summary>
public sealed class ExtractFeaturesActivity(RunWorkspace workspace, RunProgressHub progress, StageServices services)
    : StageActivity<ExtractInput, ExtractResult>(services)
{
    protected override string RunIdOf(ExtractInput input) => input.Request.RunId;

    protected override async Task<ExtractResult?> TryReuseAsync(ExtractInput input, CancellationToken cancellationToken)
    {
        var part = await workspace.Store.TryReadJsonAsync<ExtractPart>(new RunLayout(input.Request.RunId).ExtractPart(input.ShardIndex), cancellationToken);
        return part is null ? null : new ExtractResult(input.ShardIndex, part.Value.ClassCounts.Sum(), 0, new RunLayout(input.Request.RunId).Features);
    }

    protected override async Task<ExtractResult> ComputeAsync(ExtractInput input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var request = input.Request;
        var device = DeviceSelection.Prepare(request.Execution.Device, request.Execution.Threads);
        var split = await workspace.LoadRunDataAsync(request, cancellationToken);
        var ownedClasses = Enumerable.Range(0, input.Dataset.Classes.Count).Where(c => c % input.ShardCount == input.ShardIndex).ToArray();
        var owned = new HashSet<int>(ownedClasses);
        int[] globalIndex = Enumerable.Range(0, split.Train.Count).Where(i => owned.Contains(split.Train.Labels[i])).ToArray();
        string prefix = new RunLayout(request.RunId).Features;
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
                if (!classFeatures.PooledIsFinite)
                    throw new InvalidRunInputException($"features: the backbone produced NaN or Inf features for class {classFeatures.ClassId}; the checkpoint is unusable (diverged training?).");
            }
            using (var scratch = workspace.NewScratchDirectory(request.RunId, "extract"))
            {
                for (int i = 0; i < ownedClasses.Length; i++)
                {
                    var local = features.Classes[ownedClasses[i]];
                    counts[i] = local.Count;
                    // Sample indices refer to the subset; the shard files record training-set indices. The
                    // relabelled view shares the tensors that `features` owns and disposes, so it is not disposed here.
                    var global = local.WithSampleIndices(local.SampleIndices.Select(s => globalIndex[s]).ToArray());
                    string file = scratch.File(FeatureShardWriter.ShardName(local.ClassId));
                    await FeatureShardWriter.WriteClassAsync(global, file, request.Fsa.StoreMapsAsHalf, cancellationToken);
                    await workspace.Store.UploadFromFileAsync(ArtifactPath.Combine(prefix, Path.GetFileName(file)), file, cancellationToken);
                    File.Delete(file);
                }
            }
            part = part with
            {
                FeatureChannels = features.FeatureChannels, MapHeight = features.MapHeight, MapWidth = features.MapWidth,
                ViewsPerSample = features.ViewsPerSample,
            };
        }
        // Shard 0 also extracts the validation split's pooled features, once, for every method's choice in Phase II and Evaluate.
        if (input.ShardIndex == 0 && split.Validation is { Count: > 0 } validationSet)
        {
            using var model = await BackboneLoader.LoadAsync(workspace, input.Backbone, input.Dataset.Channels, input.Dataset.Classes.Count, cancellationToken);
            using var validation = EvaluationFeatures.Extract(model, validationSet, new Normalization(input.Dataset.Mean, input.Dataset.Std), request.Training.BatchSize, device);
            using var scratch = workspace.NewScratchDirectory(request.RunId, "validation");
            string file = scratch.File("validation.safetensors");
            validation.Save(file);
            await workspace.Store.UploadFromFileAsync(new RunLayout(request.RunId).ValidationFeatures, file, cancellationToken);
        }
        await workspace.Store.WriteJsonAsync(new RunLayout(request.RunId).ExtractPart(input.ShardIndex), part, cancellationToken);
        return new ExtractResult(input.ShardIndex, globalIndex.Length, stopwatch.Elapsed.TotalSeconds, prefix);
    }
}
