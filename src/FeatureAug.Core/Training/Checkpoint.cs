using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FeatureAug.Core.Training;

/// <summary>
/// Where training stood after an epoch. Shuffling and augmentation draw from generators seeded by
/// (Seed, epoch), so Seed and Epoch are all the random state a resumed run needs.
/// </summary>
/// <param name="Epoch">Completed epochs.</param>
/// <param name="Seed">The run seed the training was given.</param>
/// <param name="OptionsHash">TrainingOptions.TrajectoryHash() of the run.</param>
/// <param name="TrainImages">Number of training images.</param>
/// <param name="EpochLosses">Mean training loss of epochs 1..Epoch.</param>
public sealed record CheckpointState(int Epoch, int Seed, string OptionsHash, int TrainImages, IReadOnlyList<double> EpochLosses);

/// <summary>
/// The JSON sidecar of one checkpoint: its state and the two safetensors files with their SHA-256.
/// The sidecar is written last, so a checkpoint whose sidecar exists is complete.
/// </summary>
public sealed record CheckpointManifest(
    CheckpointState State, string ModelFile, string ModelSha256, string OptimizerFile, string OptimizerSha256)
{
    /// <summary>Completed epochs (written first in the JSON for people reading it).</summary>
    [JsonPropertyOrder(-1)]
    public int Epoch => State.Epoch;
}

/// <summary>
/// Saves and finds per-epoch checkpoints in one directory:
/// epoch-NNNN.model.safetensors (model state_dict with PyTorch names, loadable by
/// safetensors.torch.load_file), epoch-NNNN.optimizer.safetensors (named optimizer tensors, e.g.
/// SGD momentum buffers keyed by parameter name) and epoch-NNNN.json (the manifest).
/// Every file is written to a temporary name and renamed, so a crash never leaves a half file under a final name.
/// </summary>
public static class Checkpoint
{
    private static readonly Regex ManifestName = new(@"^epoch-(\d+)\.json$", RegexOptions.CultureInvariant);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };

    /// <summary>The file name of the manifest of epoch <paramref name="epoch"/>'s checkpoint (written last: it marks the checkpoint complete).</summary>
    public static string ManifestFileName(int epoch) => $"epoch-{epoch.ToString("D4", CultureInfo.InvariantCulture)}.json";

    /// <summary>Writes the checkpoint of <paramref name="state"/>.Epoch and returns its manifest.</summary>
    public static CheckpointManifest Save(
        string directory, CheckpointState state, nn.Module model, IReadOnlyDictionary<string, Tensor> optimizerState)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizerState);
        if (state.Epoch < 0) throw new ArgumentOutOfRangeException(nameof(state), state.Epoch, "Checkpoint epoch must be zero or positive.");
        Directory.CreateDirectory(directory);
        string stem = $"epoch-{state.Epoch:D4}";
        string modelFile = stem + ".model.safetensors";
        string optimizerFile = stem + ".optimizer.safetensors";

        string modelSha = WriteAtomically(Path.Combine(directory, modelFile), stream => model.save_safetensors(stream, leaveOpen: true));
        string optimizerSha = WriteAtomically(Path.Combine(directory, optimizerFile), stream =>
        {
            using var scope = NewDisposeScope();
            // safetensors holds CPU bytes; contiguous copies keep the writer independent of strides and device.
            var cpu = optimizerState.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
            Safetensors.SaveStateDict(stream, cpu, leaveOpen: true);
        });

        var manifest = new CheckpointManifest(state, modelFile, modelSha, optimizerFile, optimizerSha);
        WriteAtomically(Path.Combine(directory, ManifestFileName(state.Epoch)), stream => JsonSerializer.Serialize(stream, manifest, Json));
        return manifest;
    }

    /// <summary>The newest complete checkpoint with epoch at most <paramref name="maxEpoch"/>, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">A manifest cannot be read.</exception>
    public static CheckpointManifest? FindLatest(string directory, int maxEpoch = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return List(directory).Where(m => m.Epoch <= maxEpoch).MaxBy(m => m.Epoch);
    }

    /// <summary>Every complete checkpoint in the directory, oldest first.</summary>
    /// <exception cref="InvalidDataException">A manifest cannot be read.</exception>
    public static IReadOnlyList<CheckpointManifest> List(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) return Array.Empty<CheckpointManifest>();
        var manifests = new List<CheckpointManifest>();
        foreach (string path in Directory.EnumerateFiles(directory, "epoch-*.json"))
        {
            var match = ManifestName.Match(Path.GetFileName(path));
            if (!match.Success) continue;
            var manifest = ReadManifest(path);
            if (manifest.Epoch != int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture))
                throw new InvalidDataException($"Checkpoint manifest {path} says epoch {manifest.Epoch}, unlike its file name.");
            manifests.Add(manifest);
        }
        return manifests.OrderBy(m => m.Epoch).ToList();
    }

    /// <summary>Loads the model weights and buffers of a checkpoint into <paramref name="model"/> (names must match exactly).</summary>
    /// <exception cref="InvalidDataException">The file is missing or its SHA-256 differs from the manifest.</exception>
    public static void LoadModel(string directory, CheckpointManifest manifest, nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        string path = VerifiedPath(directory, manifest.ModelFile, manifest.ModelSha256);
        try
        {
            model.load_safetensors(path);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"Checkpoint {path} does not fit the model: {e.Message}", e);
        }
    }

    /// <summary>The optimizer tensors of a checkpoint, on the CPU; the caller disposes them.</summary>
    /// <exception cref="InvalidDataException">The file is missing or its SHA-256 differs from the manifest.</exception>
    public static Dictionary<string, Tensor> LoadOptimizerState(string directory, CheckpointManifest manifest)
    {
        string path = VerifiedPath(directory, manifest.OptimizerFile, manifest.OptimizerSha256);
        return Safetensors.LoadStateDict(path);
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> checkpoints.</summary>
    public static void Prune(string directory, int keep)
    {
        if (keep < 1) throw new ArgumentOutOfRangeException(nameof(keep), keep, "At least one checkpoint must be kept.");
        var all = List(directory);
        foreach (var old in all.Take(Math.Max(0, all.Count - keep)))
        {
            // Manifest first: without it the checkpoint no longer counts, even if deleting the rest fails.
            File.Delete(Path.Combine(directory, $"epoch-{old.Epoch:D4}.json"));
            File.Delete(Path.Combine(directory, old.ModelFile));
            File.Delete(Path.Combine(directory, old.OptimizerFile));
        }
    }

    private static CheckpointManifest ReadManifest(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var manifest = JsonSerializer.Deserialize<CheckpointManifest>(stream, Json);
            if (manifest?.State is null || string.IsNullOrEmpty(manifest.ModelFile) || string.IsNullOrEmpty(manifest.OptimizerFile)
                || manifest.State.EpochLosses is null || manifest.State.OptionsHash is null)
                throw new InvalidDataException($"Checkpoint manifest {path} lacks required fields.");
            return manifest;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Checkpoint manifest {path} is not valid JSON: {e.Message}", e);
        }
    }

    private static string VerifiedPath(string directory, string fileName, string expectedSha256)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (fileName != Path.GetFileName(fileName))
            throw new InvalidDataException($"Checkpoint file name '{fileName}' in {directory} must not contain a path.");
        string path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
            throw new InvalidDataException($"Checkpoint file {path} is missing.");
        string actual = Sha256Of(path);
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"Checkpoint file {path} has SHA-256 {actual}, but its manifest records {expectedSha256}.");
        return path;
    }

    private static string WriteAtomically(string path, Action<Stream> write)
    {
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            string sha = Sha256Of(temporary);
            File.Move(temporary, path, overwrite: true);
            return sha;
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}
