using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>
/// The frozen-backbone features of the training samples of one class: what fusion needs of a tail class or
/// of a confusing class, and what Phase II needs (pooled features). V1 = 1 + views (view 0 is the clean image),
/// L = H x W locations, K channels. Feature maps are stored location-major (n x V1 x L x K) so each location's
/// K-vector is one contiguous row; CAMs stay separate so the thresholds tau_s / tau_g can change without
/// re-extraction. Owns its tensors.
/// </summary>
public sealed class ClassFeatures : IDisposable
{
    /// <param name="classId">The class all samples belong to.</param>
    /// <param name="sampleIndices">Index of each sample in the training dataset.</param>
    /// <param name="pooled">Pooled features, n x V1 x K, float32.</param>
    /// <param name="vectors">Feature maps, n x V1 x L x K, float32 or float16.</param>
    /// <param name="cams">Own-label CAMs min-max normalised to [0, 1], n x V1 x L, float32.</param>
    /// <param name="scores">Softmax scores of the clean view, n x C, float32.</param>
    /// <param name="mapHeight">H of the feature map (L = H x W).</param>
    /// <param name="mapWidth">W of the feature map.</param>
    public ClassFeatures(int classId, int[] sampleIndices, Tensor pooled, Tensor vectors, Tensor cams, Tensor scores, int mapHeight, int mapWidth)
    {
        ArgumentNullException.ThrowIfNull(sampleIndices);
        int n = sampleIndices.Length;
        if (pooled.ndim != 3 || pooled.shape[0] != n || pooled.dtype != ScalarType.Float32)
            throw new ArgumentException($"Class {classId}: pooled must be float32 {n} x V1 x K, got {pooled.dtype} [{string.Join(", ", pooled.shape)}].", nameof(pooled));
        long views = pooled.shape[1], channels = pooled.shape[2], locations = (long)mapHeight * mapWidth;
        if (mapHeight <= 0 || mapWidth <= 0)
            throw new ArgumentException($"Class {classId}: feature map size must be positive, got {mapHeight} x {mapWidth}.");
        if (!vectors.shape.SequenceEqual(new[] { n, views, locations, channels }) || (vectors.dtype != ScalarType.Float32 && vectors.dtype != ScalarType.Float16))
            throw new ArgumentException($"Class {classId}: vectors must be float32/float16 [{n}, {views}, {locations}, {channels}], got {vectors.dtype} [{string.Join(", ", vectors.shape)}].", nameof(vectors));
        if (!cams.shape.SequenceEqual(new[] { n, views, locations }) || cams.dtype != ScalarType.Float32)
            throw new ArgumentException($"Class {classId}: cams must be float32 [{n}, {views}, {locations}], got {cams.dtype} [{string.Join(", ", cams.shape)}].", nameof(cams));
        if (scores.ndim != 2 || scores.shape[0] != n || scores.dtype != ScalarType.Float32)
            throw new ArgumentException($"Class {classId}: scores must be float32 {n} x C, got {scores.dtype} [{string.Join(", ", scores.shape)}].", nameof(scores));

        ClassId = classId;
        SampleIndices = sampleIndices;
        // Long-lived: detached so that a caller's dispose scope does not free them.
        Pooled = pooled.DetachFromDisposeScope();
        Vectors = vectors.DetachFromDisposeScope();
        Cams = cams.DetachFromDisposeScope();
        Scores = scores.DetachFromDisposeScope();
        MapHeight = mapHeight;
        MapWidth = mapWidth;
    }

    public int ClassId { get; }
    public int[] SampleIndices { get; }
    public Tensor Pooled { get; }
    public Tensor Vectors { get; }
    public Tensor Cams { get; }
    public Tensor Scores { get; }
    public int MapHeight { get; }
    public int MapWidth { get; }

    public int Count => SampleIndices.Length;
    public int ViewsPerSample => (int)Pooled.shape[1];
    public int FeatureChannels => (int)Pooled.shape[2];
    public int Locations => MapHeight * MapWidth;

    /// <summary>Whether every pooled feature is finite: a backbone that yields NaN or Inf would poison every head trained on it.</summary>
    public bool PooledIsFinite
    {
        get
        {
            using var finite = torch.isfinite(Pooled).all();
            return finite.item<bool>();
        }
    }

    /// <summary>
    /// The same features under other sample indices (e.g. a subset's positions mapped back to the training set's). The
    /// view shares this object's tensors, so only this object is disposed.
    /// </summary>
    public ClassFeatures WithSampleIndices(int[] sampleIndices)
    {
        ArgumentNullException.ThrowIfNull(sampleIndices);
        if (sampleIndices.Length != Count)
            throw new ArgumentException($"Class {ClassId} has {Count} samples, got {sampleIndices.Length} indices.", nameof(sampleIndices));
        return new ClassFeatures(ClassId, sampleIndices, Pooled, Vectors, Cams, Scores, MapHeight, MapWidth);
    }

    public void Dispose()
    {
        Pooled.Dispose();
        Vectors.Dispose();
        Cams.Dispose();
        Scores.Dispose();
    }
}

/// <summary>
/// Frozen-backbone features of a whole training set, organised per class (class c's samples in dataset order).
/// This is the class-sorted order every "global sample position" of the FSA part refers to:
/// class 0's samples first, then class 1's, and so on.
/// </summary>
public sealed class ExtractedFeatures : IDisposable
{
    public ExtractedFeatures(IReadOnlyList<ClassFeatures> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 0) throw new ArgumentException("At least one class is needed.", nameof(classes));
        var first = classes[0];
        for (int c = 0; c < classes.Count; c++)
        {
            var features = classes[c];
            if (features.ClassId != c)
                throw new ArgumentException($"Entry {c} holds class {features.ClassId}; classes must be given in class order.", nameof(classes));
            if (features.FeatureChannels != first.FeatureChannels || features.ViewsPerSample != first.ViewsPerSample
                || features.MapHeight != first.MapHeight || features.MapWidth != first.MapWidth
                || features.Scores.shape[1] != classes.Count || features.Vectors.dtype != first.Vectors.dtype)
                throw new ArgumentException(
                    $"Class {c} has K={features.FeatureChannels}, V1={features.ViewsPerSample}, map {features.MapHeight}x{features.MapWidth}, " +
                    $"{features.Scores.shape[1]} scores, {features.Vectors.dtype} vectors; class 0 has K={first.FeatureChannels}, V1={first.ViewsPerSample}, " +
                    $"map {first.MapHeight}x{first.MapWidth}, {classes.Count} classes expected, {first.Vectors.dtype} vectors.", nameof(classes));
        }
        Classes = classes;
    }

    public IReadOnlyList<ClassFeatures> Classes { get; }
    public int NumClasses => Classes.Count;
    public int FeatureChannels => Classes[0].FeatureChannels;
    public int ViewsPerSample => Classes[0].ViewsPerSample;
    public int MapHeight => Classes[0].MapHeight;
    public int MapWidth => Classes[0].MapWidth;

    /// <summary>Training samples per class.</summary>
    public int[] ClassCounts() => Classes.Select(c => c.Count).ToArray();

    /// <summary>Row c: the mean softmax score vector over class c's training samples (zeros for an empty class).</summary>
    public double[][] MeanScores() => Classes.Select(MeanScoresOf).ToArray();

    /// <summary>The mean softmax score vector over one class's samples (clean view).</summary>
    public static double[] MeanScoresOf(ClassFeatures features)
    {
        if (features.Count == 0) return new double[features.Scores.shape[1]];
        using var mean = features.Scores.to_type(ScalarType.Float64).mean(new long[] { 0 });
        return mean.data<double>().ToArray();
    }

    /// <summary>All pooled features in class-sorted order, for Phase II.</summary>
    public PooledFeatureTable Pooled() => PooledFeatureTable.FromClasses(Classes);

    public void Dispose()
    {
        foreach (var features in Classes) features.Dispose();
    }
}

/// <summary>
/// Pooled features of all training samples in class-sorted order (see <see cref="ExtractedFeatures"/>),
/// N x V1 x K float32: all Phase II needs of the real samples.
/// </summary>
public sealed class PooledFeatureTable : IDisposable
{
    public PooledFeatureTable(Tensor features, int[] classCounts)
    {
        ArgumentNullException.ThrowIfNull(classCounts);
        long total = classCounts.Sum(c => (long)c);
        if (features.ndim != 3 || features.shape[0] != total || features.dtype != ScalarType.Float32)
            throw new ArgumentException($"Pooled features must be float32 {total} x V1 x K for class counts summing to {total}, got {features.dtype} [{string.Join(", ", features.shape)}].", nameof(features));
        if (classCounts.Any(c => c < 0)) throw new ArgumentException("Class counts must not be negative.", nameof(classCounts));
        Features = features.DetachFromDisposeScope();
        ClassCounts = classCounts;
        ClassOffsets = new int[classCounts.Length];
        Labels = new int[total];
        int offset = 0;
        for (int c = 0; c < classCounts.Length; c++)
        {
            ClassOffsets[c] = offset;
            Array.Fill(Labels, c, offset, classCounts[c]);
            offset += classCounts[c];
        }
    }

    /// <summary>N x V1 x K.</summary>
    public Tensor Features { get; }
    public int[] ClassCounts { get; }
    /// <summary>Global position of each class's first sample.</summary>
    public int[] ClassOffsets { get; }
    /// <summary>Label of each global position.</summary>
    public int[] Labels { get; }
    public int Count => Labels.Length;
    public int NumClasses => ClassCounts.Length;
    public int ViewsPerSample => (int)Features.shape[1];
    public int FeatureChannels => (int)Features.shape[2];

    public static PooledFeatureTable FromClasses(IReadOnlyList<ClassFeatures> classes)
    {
        using var scope = torch.NewDisposeScope();
        var features = torch.cat(classes.Select(c => c.Pooled).ToList(), 0);
        return new PooledFeatureTable(features.MoveToOuterDisposeScope(), classes.Select(c => c.Count).ToArray());
    }

    public void Dispose() => Features.Dispose();
}
