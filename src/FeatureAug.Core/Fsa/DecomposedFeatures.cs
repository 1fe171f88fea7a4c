using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>
/// A tail class and its confusing classes decomposed for fusion (spec/fsa.md, "Decomposition"): the class-specific
/// vectors S_t of every tail sample (normalised CAM above tau_s) and the class-generic vectors G_u of every
/// confusing-class sample (normalised CAM below tau_g), all views together, in one compact float32 table: S_t of every
/// tail sample grouped by sample, then G_u of every confusing-class sample grouped by slot and sample; plus
/// per-sample start/count indices into it. Only vectors that can be drawn are copied. The masks are
/// <see cref="CamDecomposition.SpecificMask"/> and <see cref="CamDecomposition.GenericMask"/>.
/// </summary>
internal sealed class DecomposedFeatures : IDisposable
{
    public required Tensor Vectors { get; init; }
    /// <summary>Mean of a bag of rows of <see cref="Vectors"/> (an embedding bag over the table, frozen).</summary>
    public required EmbeddingBag MeanOfRows { get; init; }
    public required Tensor SpecificStart { get; init; }
    public required Tensor SpecificCount { get; init; }
    public required Tensor QualifyingStart { get; init; }
    public required Tensor QualifyingCount { get; init; }
    public required Tensor SlotQualifyingOffset { get; init; }
    public required Tensor SlotQualifyingSize { get; init; }
    public required Tensor CleanPooled { get; init; }
    /// <summary>Mean clean pooled feature of the tail class, 1 x K.</summary>
    public required Tensor TailMean { get; init; }
    /// <summary>Mean clean pooled feature of each confusing class, slots x K (zeros for an empty class, which no row is fused with).</summary>
    public required Tensor SlotMeans { get; init; }
    public required int Locations { get; init; }
    public required int Channels { get; init; }
    public required int SamplesWithoutSpecific { get; init; }
    public required double MeanSpecificVectors { get; init; }
    public required double MeanGenericVectors { get; init; }

    public static DecomposedFeatures Build(ClassFeatures tail, IReadOnlyList<ClassFeatures> confusing, double tauS, double tauG)
    {
        int locations = tail.Locations, channels = tail.FeatureChannels;
        foreach (var other in confusing)
            if (other.Locations != locations || other.FeatureChannels != channels)
                throw new ArgumentException(
                    $"Confusing class {other.ClassId} has maps of {other.FeatureChannels} x {other.MapHeight} x {other.MapWidth}; tail class {tail.ClassId} has {channels} x {tail.MapHeight} x {tail.MapWidth}.",
                    nameof(confusing));

        using var scope = torch.NewDisposeScope();
        var (specificVectors, specificCount) = SpecificVectors(tail, tauS);
        var specificStart = torch.cumsum(specificCount, 0) - specificCount;
        long tableRows = specificVectors.shape[0];

        var vectorParts = new List<Tensor> { specificVectors };
        var qualifyingStarts = new List<Tensor>();
        var qualifyingCounts = new List<Tensor>();
        var slotOffset = new long[confusing.Count];
        var slotSize = new long[confusing.Count];
        long qualifyingTotal = 0, genericVectors = 0, genericSamples = 0;
        for (int slot = 0; slot < confusing.Count; slot++)
        {
            var (vectors, count) = GenericVectors(confusing[slot], tauG);
            var start = torch.cumsum(count, 0) - count + tableRows;
            var qualifying = (count > 0).nonzero().squeeze(1);
            qualifyingStarts.Add(start.index_select(0, qualifying));
            qualifyingCounts.Add(count.index_select(0, qualifying));
            slotOffset[slot] = qualifyingTotal;
            slotSize[slot] = qualifying.shape[0];
            qualifyingTotal += qualifying.shape[0];
            vectorParts.Add(vectors);
            tableRows += vectors.shape[0];
            genericVectors += vectors.shape[0];
            genericSamples += confusing[slot].Count;
        }

        long specificTotal = specificVectors.shape[0];
        var table = torch.cat(vectorParts, 0);
        if (table.shape[0] == 0) table = torch.zeros(1, channels);   // nothing to draw: every row falls back, the bag is never read
        return new DecomposedFeatures
        {
            Vectors = table.MoveToOuterDisposeScope(),
            MeanOfRows = nn.EmbeddingBag_from_pretrained(table, freeze: true, mode: EmbeddingBagMode.Mean),
            SpecificStart = specificStart.MoveToOuterDisposeScope(),
            SpecificCount = specificCount.MoveToOuterDisposeScope(),
            QualifyingStart = torch.cat(qualifyingStarts, 0).MoveToOuterDisposeScope(),
            QualifyingCount = torch.cat(qualifyingCounts, 0).MoveToOuterDisposeScope(),
            SlotQualifyingOffset = torch.tensor(slotOffset).MoveToOuterDisposeScope(),
            SlotQualifyingSize = torch.tensor(slotSize).MoveToOuterDisposeScope(),
            CleanPooled = tail.Pooled.select(1, 0).contiguous().MoveToOuterDisposeScope(),
            TailMean = ClassMean(tail, channels).unsqueeze(0).MoveToOuterDisposeScope(),
            SlotMeans = torch.stack(confusing.Select(c => ClassMean(c, channels)).ToArray()).MoveToOuterDisposeScope(),
            Locations = locations,
            Channels = channels,
            SamplesWithoutSpecific = (int)(specificCount == 0).sum().item<long>(),
            MeanSpecificVectors = tail.Count == 0 ? 0 : (double)specificTotal / tail.Count,
            MeanGenericVectors = genericSamples == 0 ? 0 : (double)genericVectors / genericSamples,
        };
    }

    private static Tensor ClassMean(ClassFeatures features, int channels) =>
        features.Count == 0 ? torch.zeros(channels) : features.Pooled.select(1, 0).to_type(ScalarType.Float32).mean(new long[] { 0 });

    /// <summary>S_i of every sample of a class (CAM above <paramref name="tauS"/>) as float32 rows grouped by sample, and |S_i| per sample.</summary>
    internal static (Tensor Vectors, Tensor CountPerSample) SpecificVectors(ClassFeatures features, double tauS) =>
        Gather(features, (cams, vectors) => CamDecomposition.SpecificMask(cams, vectors, tauS));

    /// <summary>G_i of every sample of a class (CAM below <paramref name="tauG"/>) as float32 rows grouped by sample, and |G_i| per sample.</summary>
    internal static (Tensor Vectors, Tensor CountPerSample) GenericVectors(ClassFeatures features, double tauG) =>
        Gather(features, (cams, vectors) => CamDecomposition.GenericMask(cams, vectors, tauG));

    /// <summary>The vectors a mask of (normalised CAMs, vectors) selects, each sample's views and locations flattened.</summary>
    private static (Tensor Vectors, Tensor CountPerSample) Gather(ClassFeatures features, Func<Tensor, Tensor, Tensor> maskOf)
    {
        long n = features.Count, perSample = (long)features.ViewsPerSample * features.Locations, channels = features.FeatureChannels;
        var vectors = features.Vectors.reshape(n, perSample, channels);
        var cams = features.Cams.reshape(n, perSample);
        var mask = maskOf(cams, vectors);
        var rows = mask.flatten().nonzero().squeeze(1);   // ascending, so grouped by sample
        var selected = vectors.reshape(n * perSample, channels).index_select(0, rows).to_type(ScalarType.Float32);
        return (selected, mask.sum(new long[] { 1 }, type: ScalarType.Int64));
    }

    public void Dispose()
    {
        MeanOfRows.Dispose();
        Vectors.Dispose();
        SpecificStart.Dispose();
        SpecificCount.Dispose();
        QualifyingStart.Dispose();
        QualifyingCount.Dispose();
        SlotQualifyingOffset.Dispose();
        SlotQualifyingSize.Dispose();
        CleanPooled.Dispose();
        TailMean.Dispose();
        SlotMeans.Dispose();
    }
}
