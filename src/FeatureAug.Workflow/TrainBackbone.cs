using System.Globalization;
using FeatureAug.Core;
using FeatureAug.Core.Data;
using FeatureAug.Core.Models;
using FeatureAug.Core.Training;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Workflow;

public sealed record TrainChunkInput(RunRequest Request, DatasetSummary Dataset, int StartEpoch, int EndEpoch);

public sealed record TrainChunkResult(int EpochsCompleted, double LastLoss, double Seconds, double ImagesPerSecond, string CheckpointPath);

public sealed record BackboneReference(string CheckpointPath, string Architecture, int Epochs);

/// <summary>
/// Step 2: Phase I in epoch chunks. A chunk resumes from the newest stored checkpoint, trains to its end
/// epoch and publishes a checkpoint per epoch, so a lost replica costs at most one chunk and a finished
/// chunk is never trained again.
/// </summary>
public sealed class TrainBackboneActivity(RunWorkspace workspace, RunProgressHub progress, StageServices services)
    : StageActivity<TrainChunkInput, TrainChunkResult>(services)
{
    protected override string RunIdOf(TrainChunkInput input) => input.Request.RunId;

    protected override async Task<TrainChunkResult?> TryReuseAsync(TrainChunkInput input, CancellationToken cancellationToken)
    {
        string manifestPath = new RunLayout(input.Request.RunId).CheckpointManifest(input.EndEpoch);
        var manifest = await workspace.Store.TryReadJsonAsync<CheckpointManifest>(manifestPath, cancellationToken);
        if (manifest is null) return null;
        var losses = manifest.Value.State.EpochLosses;
        return new TrainChunkResult(input.EndEpoch, losses.Count > 0 ? losses[^1] : double.NaN, 0, 0, manifestPath);
    }

    protected override async Task<TrainChunkResult> ComputeAsync(TrainChunkInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        var device = DeviceSelection.Prepare(request.Execution.Device, request.Execution.Threads);
        var split = await workspace.LoadRunDataAsync(request, cancellationToken);
        var layout = new RunLayout(request.RunId);
        using (var scratch = workspace.NewScratchDirectory(request.RunId, "train"))
        {
            // Before the chunk's end: its start, or a later epoch that an interrupted attempt of this chunk kept.
            int resumedFrom = await DownloadCheckpointAsync(layout, input.EndEpoch - 1, scratch.Path, cancellationToken);

            var normalization = new Normalization(input.Dataset.Mean, input.Dataset.Std);
            using var model = ModelFactory.Create(request.Architecture, input.Dataset.Channels, input.Dataset.Classes.Count, request.Execution.Seed);
            var reporter = new Progress<TrainingProgress>(p => progress.Report(new ActivityProgress(
                request.RunId, "TrainBackbone",
                $"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.StepsPerEpoch}",
                (long)(p.Epoch - 1) * p.StepsPerEpoch + p.Step, (long)p.Epochs * p.StepsPerEpoch,
                p.Loss, p.ImagesPerSecond, DateTimeOffset.UtcNow)));
            TrainingResult result;
            try
            {
                result = BackboneTraining.TrainUntil(model, split.Train, normalization, request.Training, request.Execution.Seed, device, input.EndEpoch,
                    new CheckpointOptions(scratch.Path, keep: int.MaxValue), reporter, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // An interrupted chunk keeps the epochs it finished (the interrupted epoch wrote no checkpoint).
                await PublishCheckpointsAsync(layout, scratch, resumedFrom);
                throw;
            }

            double lastLoss = result.EpochLosses.Count > 0 ? result.EpochLosses[^1] : double.NaN;
            if (!double.IsFinite(lastLoss))
                throw new InvalidRunInputException($"training diverged: epoch {input.EndEpoch} loss is {lastLoss}; lower --lr. No checkpoint was published.");

            await PublishCheckpointsAsync(layout, scratch, resumedFrom);
            return new TrainChunkResult(input.EndEpoch, lastLoss, result.Seconds, result.ImagesPerSecond,
                layout.CheckpointManifest(input.EndEpoch));
        }
    }

    /// <summary>
    /// Publishes only the epochs this chunk produced; the data files before their manifests. Not cancelled
    /// by shutdown: a trained epoch is kept (the host waits for it, see <see cref="StageServices"/>).
    /// </summary>
    private async Task PublishCheckpointsAsync(RunLayout layout, ScratchDirectory scratch, int resumedFrom)
    {
        foreach (var manifest in Checkpoint.List(scratch.Path).Where(m => m.Epoch > resumedFrom))
        {
            foreach (string file in new[] { manifest.ModelFile, manifest.OptimizerFile, Checkpoint.ManifestFileName(manifest.Epoch) })
                await workspace.Store.UploadFromFileAsync(layout.CheckpointFile(file), scratch.File(file), CancellationToken.None);
        }
    }

    /// <summary>
    /// Brings the newest intact checkpoint at or before <paramref name="epoch"/> into the local directory and
    /// returns its epoch (0 when none). A checkpoint whose files fail their recorded SHA-256 (truncated or
    /// corrupted in storage) is skipped for the one before it; training then redoes the lost epochs, and
    /// publishing them replaces the damaged files.
    /// </summary>
    private async Task<int> DownloadCheckpointAsync(RunLayout layout, int epoch, string localDirectory, CancellationToken cancellationToken)
    {
        for (int candidate = epoch; candidate > 0; candidate--)
        {
            string manifestPath = layout.CheckpointManifest(candidate);
            try
            {
                var manifest = await workspace.Store.TryReadJsonAsync<CheckpointManifest>(manifestPath, cancellationToken);
                if (manifest is null) continue;
                foreach (string file in new[] { manifest.Value.ModelFile, manifest.Value.OptimizerFile, Checkpoint.ManifestFileName(candidate) })
                    await workspace.Store.DownloadToFileAsync(layout.CheckpointFile(file), Path.Combine(localDirectory, file), cancellationToken);
                if (Checkpoint.FindLatest(localDirectory) is { } local && local.Epoch == candidate) return candidate;
            }
            catch (Exception ex) when (ex is ArtifactIntegrityException or InvalidDataException or System.Text.Json.JsonException)
            {
                Logger.LogWarning(ex, "Run {RunId}: the checkpoint of epoch {Epoch} is damaged; resuming from an earlier one.", layout.RunId, candidate);
                progress.Report(new ActivityProgress(layout.RunId, "TrainBackbone",
                    $"checkpoint of epoch {candidate} is damaged ({ex.Message}); resuming from an earlier one", 0, 1, null, null, DateTimeOffset.UtcNow));
            }
            foreach (string stale in Directory.GetFiles(localDirectory)) File.Delete(stale);
        }
        return 0;
    }
}
