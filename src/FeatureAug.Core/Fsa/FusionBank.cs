using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>What fusing one tail class did, for the run report.</summary>
/// <param name="ClassId">The tail class.</param>
/// <param name="Generated">Bank size: fused features made (fallbacks included).</param>
/// <param name="FallbackEmptySpecific">Bank entries that are the real f_t because the tail sample has no specific vector.</param>
/// <param name="FallbackNoGenericPartner">Bank entries that are the real f_t because no sample of the confusing class has a generic vector.</param>
/// <param name="SamplesWithoutSpecific">Samples of the tail class whose S_t is empty.</param>
/// <param name="MeanSpecificVectors">Mean |S_t| over the tail class's samples (all views together).</param>
/// <param name="MeanGenericVectors">Mean |G_u| over the samples of the confusing classes (all views together).</param>
/// <param name="RejectedAmbiguous">Bank entries that are the real f_t because the fused feature lay nearer its confusing
/// class's mean than its tail class's (<see cref="FsaOptions.RejectAmbiguousFused"/>; 0 without it).</param>
public sealed record FusionStatistics(
    int ClassId, int Generated, int FallbackEmptySpecific, int FallbackNoGenericPartner,
    int SamplesWithoutSpecific, double MeanSpecificVectors, double MeanGenericVectors, int RejectedAmbiguous = 0)
{
    /// <summary>Bank entries that are a real feature f_t instead of a fused one, for any reason.</summary>
    public int Fallbacks => FallbackEmptySpecific + FallbackNoGenericPartner + RejectedAmbiguous;
}

/// <summary>
/// The fused pooled features of one tail class, B x K float32. Entry k * N_a + a belongs to the k-th Phase-II draw
/// of this class's samples (<see cref="AugmentationPlan.TailDrawsOfClass"/>) and was fused with its a-th confusing class (in turn).
/// </summary>
public sealed class FusionBank : IDisposable
{
    public FusionBank(int classId, Tensor features, FusionStatistics statistics)
    {
        if (features.ndim != 2 || features.dtype != ScalarType.Float32)
            throw new ArgumentException($"Bank of class {classId}: features must be float32 B x K, got {features.dtype} [{string.Join(", ", features.shape)}].", nameof(features));
        ClassId = classId;
        Features = features.DetachFromDisposeScope();
        Statistics = statistics;
    }

    public int ClassId { get; }
    public Tensor Features { get; }
    public FusionStatistics Statistics { get; }
    public int Count => (int)Features.shape[0];

    public void Dispose() => Features.Dispose();
}
