using System.Text.Json;
using FeatureAug.Core.Fsa;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FeatureAug.Core.Formats;

/// <summary>
/// Describes a directory of per-class feature shards (written last, so a directory with a manifest is complete).
/// </summary>
public sealed record FeatureShardManifest(
    int FormatVersion, int NumClasses, int FeatureChannels, int MapHeight, int MapWidth, int ViewsPerSample,
    string VectorsDType, int[] ClassCounts, string[] Shards)
{
    public const string FileName = "features.json";
    public const int CurrentFormatVersion = 1;
}

/// <summary>
/// Writes extracted features as one safetensors file per class (tensors sample_index, pooled, vectors, cams, scores;
/// see <see cref="ClassFeatures"/>), so fusing one tail class reads only that class and its confusing classes.
/// Every file is written to a temporary name and renamed, so it exists whole or not at all.
/// </summary>
public static class FeatureShardWriter
{
    /// <summary>Shard file name of a class.</summary>
    public static string ShardName(int classId) => $"class-{classId:D4}.safetensors";

    /// <summary>Writes every class's shard, then the manifest.</summary>
    /// <param name="vectorsAsHalf">Store feature maps as float16 (the other tensors stay float32).</param>
    public static async Task WriteAsync(ExtractedFeatures features, string directory, bool vectorsAsHalf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        Directory.CreateDirectory(directory);
        var shards = new string[features.NumClasses];
        for (int c = 0; c < features.NumClasses; c++)
        {
            shards[c] = ShardName(c);
            await WriteClassAsync(features.Classes[c], Path.Combine(directory, shards[c]), vectorsAsHalf, cancellationToken);
        }
        var manifest = new FeatureShardManifest(
            FeatureShardManifest.CurrentFormatVersion, features.NumClasses, features.FeatureChannels, features.MapHeight, features.MapWidth,
            features.ViewsPerSample, vectorsAsHalf ? "float16" : "float32", features.ClassCounts(), shards);
        await WriteAtomicallyAsync(Path.Combine(directory, FeatureShardManifest.FileName),
            stream => JsonSerializer.Serialize(stream, manifest, ShardJson.Options), cancellationToken);
    }

    /// <summary>Writes one class's shard (whole or not at all).</summary>
    public static Task WriteClassAsync(ClassFeatures features, string path, bool vectorsAsHalf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        return WriteAtomicallyAsync(path, stream =>
        {
            using var scope = torch.NewDisposeScope();
            var tensors = new Dictionary<string, Tensor>
            {
                [ShardKeys.SampleIndex] = torch.tensor(features.SampleIndices.Select(i => (long)i).ToArray()),
                [ShardKeys.MapSize] = torch.tensor(new long[] { features.ClassId, features.MapHeight, features.MapWidth }),
                [ShardKeys.Pooled] = features.Pooled.contiguous(),
                [ShardKeys.Vectors] = features.Vectors.to_type(vectorsAsHalf ? ScalarType.Float16 : ScalarType.Float32).contiguous(),
                [ShardKeys.Cams] = features.Cams.contiguous(),
                [ShardKeys.Scores] = features.Scores.contiguous(),
            };
            Safetensors.SaveStateDict(stream, tensors, leaveOpen: true);
        }, cancellationToken);
    }

    /// <summary>Writes a fusion bank with its statistics (whole or not at all).</summary>
    public static Task WriteBankAsync(FusionBank bank, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bank);
        var s = bank.Statistics;
        return WriteAtomicallyAsync(path, stream =>
        {
            using var scope = torch.NewDisposeScope();
            var tensors = new Dictionary<string, Tensor>
            {
                [ShardKeys.BankFeatures] = bank.Features.contiguous(),
                [ShardKeys.BankCounts] = torch.tensor(new long[] { s.ClassId, s.Generated, s.FallbackEmptySpecific, s.FallbackNoGenericPartner, s.SamplesWithoutSpecific }),
                [ShardKeys.BankMeans] = torch.tensor(new[] { s.MeanSpecificVectors, s.MeanGenericVectors }),
                [ShardKeys.BankRejected] = torch.tensor(new long[] { s.RejectedAmbiguous }),
            };
            Safetensors.SaveStateDict(stream, tensors, leaveOpen: true);
        }, cancellationToken);
    }

    /// <summary>
    /// Writes pooled features (N x K, float32) with their labels, e.g. of the test set, so heads can be evaluated
    /// without the backbone (whole or not at all).
    /// </summary>
    public static Task WriteLabelledPooledAsync(Tensor features, int[] labels, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (features.ndim != 2 || features.shape[0] != labels.Length || features.dtype != ScalarType.Float32)
            throw new ArgumentException($"Expected float32 features {labels.Length} x K, got {features.dtype} [{string.Join(", ", features.shape)}].", nameof(features));
        return WriteAtomicallyAsync(path, stream =>
        {
            using var scope = torch.NewDisposeScope();
            var tensors = new Dictionary<string, Tensor>
            {
                [ShardKeys.Pooled] = features.cpu().contiguous(),
                [ShardKeys.Labels] = torch.tensor(labels.Select(l => (long)l).ToArray()),
            };
            Safetensors.SaveStateDict(stream, tensors, leaveOpen: true);
        }, cancellationToken);
    }

    private static async Task WriteAtomicallyAsync(string path, Action<Stream> write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        string temporary = $"{fullPath}.tmp-{Guid.NewGuid():N}";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
            {
                write(stream);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}

/// <summary>Reads what <see cref="FeatureShardWriter"/> wrote, checking every tensor against the manifest.</summary>
public sealed class FeatureShardReader
{
    private FeatureShardReader(string directory, FeatureShardManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
    }

    public string Directory { get; }
    public FeatureShardManifest Manifest { get; }

    /// <summary>Opens a shard directory by its manifest.</summary>
    public static FeatureShardReader Open(string directory)
    {
        string path = Path.Combine(directory, FeatureShardManifest.FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No feature manifest at {path}: the shards were not written, or not completely.", path);
        FeatureShardManifest? manifest;
        try
        {
            using var stream = File.OpenRead(path);
            manifest = JsonSerializer.Deserialize<FeatureShardManifest>(stream, ShardJson.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid feature manifest ({e.Message}).", e);
        }
        if (manifest is null || manifest.ClassCounts is null || manifest.Shards is null)
            throw new InvalidDataException($"{path}: the manifest lacks classCounts or shards.");
        if (manifest.FormatVersion != FeatureShardManifest.CurrentFormatVersion)
            throw new InvalidDataException($"{path}: formatVersion {manifest.FormatVersion} is not the supported {FeatureShardManifest.CurrentFormatVersion}.");
        if (manifest.ClassCounts.Length != manifest.NumClasses || manifest.Shards.Length != manifest.NumClasses)
            throw new InvalidDataException($"{path}: numClasses is {manifest.NumClasses} but classCounts has {manifest.ClassCounts.Length} and shards {manifest.Shards.Length} entries.");
        return new FeatureShardReader(directory, manifest);
    }

    /// <summary>All of one class's features.</summary>
    public ClassFeatures ReadClass(int classId)
    {
        var (path, tensors) = Load(classId, null);
        var parts = new List<Tensor>();
        try
        {
            int n = Manifest.ClassCounts[classId], views = Manifest.ViewsPerSample, channels = Manifest.FeatureChannels;
            int locations = Manifest.MapHeight * Manifest.MapWidth;
            using var sampleIndex = Expect(tensors, path, ShardKeys.SampleIndex, ScalarType.Int64, n);
            using var mapSize = Expect(tensors, path, ShardKeys.MapSize, ScalarType.Int64, 3);
            var stored = mapSize.data<long>().ToArray();
            if (stored[0] != classId || stored[1] != Manifest.MapHeight || stored[2] != Manifest.MapWidth)
                throw new InvalidDataException($"{path}: '{ShardKeys.MapSize}' says class {stored[0]}, map {stored[1]} x {stored[2]}; the manifest expects class {classId}, map {Manifest.MapHeight} x {Manifest.MapWidth}.");
            var vectorsType = Manifest.VectorsDType == "float16" ? ScalarType.Float16 : ScalarType.Float32;
            parts.Add(Expect(tensors, path, ShardKeys.Pooled, ScalarType.Float32, n, views, channels));
            parts.Add(Expect(tensors, path, ShardKeys.Vectors, vectorsType, n, views, locations, channels));
            parts.Add(Expect(tensors, path, ShardKeys.Cams, ScalarType.Float32, n, views, locations));
            parts.Add(Expect(tensors, path, ShardKeys.Scores, ScalarType.Float32, n, Manifest.NumClasses));
            var features = new ClassFeatures(
                classId, sampleIndex.data<long>().Select(i => checked((int)i)).ToArray(),
                parts[0], parts[1], parts[2], parts[3], Manifest.MapHeight, Manifest.MapWidth);
            parts.Clear();
            return features;
        }
        finally
        {
            foreach (var tensor in parts) tensor.Dispose();
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    /// <summary>The pooled features of every class (reads only those tensors), for Phase II.</summary>
    public PooledFeatureTable ReadPooled()
    {
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (int c = 0; c < Manifest.NumClasses; c++)
        {
            var (path, tensors) = Load(c, [ShardKeys.Pooled]);
            parts.Add(Expect(tensors, path, ShardKeys.Pooled, ScalarType.Float32, Manifest.ClassCounts[c], Manifest.ViewsPerSample, Manifest.FeatureChannels));
        }
        return new PooledFeatureTable(torch.cat(parts, 0).MoveToOuterDisposeScope(), Manifest.ClassCounts.ToArray());
    }

    /// <summary>
    /// Row c: mean softmax over class c's samples (reads only the scores), for planning. With
    /// <paramref name="classes"/> only those rows are read and the others stay null: ranking confusing classes
    /// reads the tail rows alone, and at 10,000 classes the full C x C matrix is 800 MB.
    /// </summary>
    public double[][] ReadMeanScores(IEnumerable<int>? classes = null)
    {
        var rows = new double[Manifest.NumClasses][];
        foreach (int c in classes ?? Enumerable.Range(0, Manifest.NumClasses))
        {
            if (c < 0 || c >= Manifest.NumClasses)
                throw new ArgumentOutOfRangeException(nameof(classes), c, $"Class outside 0..{Manifest.NumClasses - 1}.");
            var (path, tensors) = Load(c, [ShardKeys.Scores]);
            using var scores = Expect(tensors, path, ShardKeys.Scores, ScalarType.Float32, Manifest.ClassCounts[c], Manifest.NumClasses);
            using var mean = scores.to_type(ScalarType.Float64).mean(new long[] { 0 });
            rows[c] = Manifest.ClassCounts[c] == 0 ? new double[Manifest.NumClasses] : mean.data<double>().ToArray();
        }
        return rows;
    }

    /// <summary>Reads a bank written by <see cref="FeatureShardWriter.WriteBankAsync"/>.</summary>
    public static FusionBank ReadBank(string path)
    {
        var tensors = LoadFile(path, null);
        try
        {
            using var counts = Expect(tensors, path, ShardKeys.BankCounts, ScalarType.Int64, 5);
            using var means = Expect(tensors, path, ShardKeys.BankMeans, ScalarType.Float64, 2);
            var c = counts.data<long>().ToArray();
            var m = means.data<double>().ToArray();
            // Banks written before rejection existed have no such tensor: nothing was rejected.
            long rejected = 0;
            if (tensors.ContainsKey(ShardKeys.BankRejected))
            {
                using var rejectedTensor = Expect(tensors, path, ShardKeys.BankRejected, ScalarType.Int64, 1);
                rejected = rejectedTensor.item<long>();
            }
            var features = tensors.GetValueOrDefault(ShardKeys.BankFeatures)
                ?? throw new InvalidDataException($"{path}: tensor '{ShardKeys.BankFeatures}' is missing.");
            if (features.ndim != 2 || features.dtype != ScalarType.Float32 || features.shape[0] != c[1])
                throw new InvalidDataException($"{path}: '{ShardKeys.BankFeatures}' is {features.dtype} [{string.Join(", ", features.shape)}], expected float32 [{c[1]}, K].");
            tensors.Remove(ShardKeys.BankFeatures);
            return new FusionBank((int)c[0], features, new FusionStatistics((int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], m[0], m[1], (int)rejected));
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    /// <summary>Reads what <see cref="FeatureShardWriter.WriteLabelledPooledAsync"/> wrote: features N x K and labels.</summary>
    public static (Tensor Features, int[] Labels) ReadLabelledPooled(string path)
    {
        var tensors = LoadFile(path, null);
        try
        {
            using var labels = tensors.GetValueOrDefault(ShardKeys.Labels)
                ?? throw new InvalidDataException($"{path}: tensor '{ShardKeys.Labels}' is missing.");
            tensors.Remove(ShardKeys.Labels);
            if (labels.dtype != ScalarType.Int64 || labels.ndim != 1)
                throw new InvalidDataException($"{path}: '{ShardKeys.Labels}' is {labels.dtype} [{string.Join(", ", labels.shape)}], expected Int64 [N].");
            var features = tensors.GetValueOrDefault(ShardKeys.Pooled)
                ?? throw new InvalidDataException($"{path}: tensor '{ShardKeys.Pooled}' is missing.");
            if (features.ndim != 2 || features.dtype != ScalarType.Float32 || features.shape[0] != labels.shape[0])
                throw new InvalidDataException($"{path}: '{ShardKeys.Pooled}' is {features.dtype} [{string.Join(", ", features.shape)}], expected float32 [{labels.shape[0]}, K].");
            tensors.Remove(ShardKeys.Pooled);
            return (features, labels.data<long>().Select(l => checked((int)l)).ToArray());
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    private (string Path, Dictionary<string, Tensor> Tensors) Load(int classId, List<string>? keys)
    {
        if (classId < 0 || classId >= Manifest.NumClasses)
            throw new ArgumentOutOfRangeException(nameof(classId), classId, $"The shards hold classes 0..{Manifest.NumClasses - 1}.");
        string path = Path.Combine(Directory, Manifest.Shards[classId]);
        return (path, LoadFile(path, keys));
    }

    private static Dictionary<string, Tensor> LoadFile(string path, List<string>? keys)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Shard {path} is missing.", path);
        try
        {
            var tensors = Safetensors.LoadStateDict(path, keys);
            foreach (var tensor in tensors.Values) tensor.DetachFromDisposeScope();
            return tensors;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: not a readable safetensors file ({e.Message}).", e);
        }
    }

    /// <summary>The named tensor with the expected type and shape (ownership passes to the caller).</summary>
    private static Tensor Expect(Dictionary<string, Tensor> tensors, string path, string key, ScalarType type, params long[] shape)
    {
        if (!tensors.Remove(key, out var tensor))
            throw new InvalidDataException($"{path}: tensor '{key}' is missing.");
        if (tensor.dtype != type || !tensor.shape.SequenceEqual(shape))
        {
            string found = $"{tensor.dtype} [{string.Join(", ", tensor.shape)}]";
            tensor.Dispose();
            throw new InvalidDataException($"{path}: tensor '{key}' is {found}, expected {type} [{string.Join(", ", shape)}].");
        }
        return tensor;
    }
}

internal static class ShardKeys
{
    public const string SampleIndex = "sample_index";
    public const string MapSize = "class_and_map_size";
    public const string Pooled = "pooled";
    public const string Vectors = "vectors";
    public const string Cams = "cams";
    public const string Scores = "scores";
    public const string Labels = "labels";
    public const string BankFeatures = "features";
    public const string BankCounts = "statistics_counts";
    public const string BankMeans = "statistics_means";
    public const string BankRejected = "statistics_rejected_ambiguous";
}

internal static class ShardJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
