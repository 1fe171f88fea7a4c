using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>
/// Class Activation Maps of each sample's own label and the split of a feature map into class-specific and
/// class-generic location vectors (spec/fsa.md, "Phase II inputs" and "Decomposition"). Fusion reads the selected
/// vectors of a tail class and its confusing classes through <see cref="DecomposedFeatures"/>.
/// </summary>
public static class CamDecomposition
{
    /// <summary>
    /// Relative spread below which a CAM counts as constant: float32 sums of equal terms can differ in the last bits.
    /// </summary>
    public const double ConstantMapTolerance = 1e-6;

    /// <summary>
    /// M_i(p) = sum_k W[y_i, k] F_i[k, p] for every sample at once: one batched matrix product of each sample's
    /// label row of W (1 x K) with its map (K x L). No bias, as in the CAM definition.
    /// </summary>
    /// <param name="featureMaps">N x K x H x W.</param>
    /// <param name="classifierWeight">C x K.</param>
    /// <param name="labels">N labels, int64.</param>
    /// <returns>Raw CAMs, N x (H*W).</returns>
    public static Tensor OwnLabelCams(Tensor featureMaps, Tensor classifierWeight, Tensor labels)
    {
        if (featureMaps.ndim != 4) throw new ArgumentException($"Feature maps must be N x K x H x W, got [{string.Join(", ", featureMaps.shape)}].", nameof(featureMaps));
        long n = featureMaps.shape[0], k = featureMaps.shape[1];
        if (classifierWeight.ndim != 2 || classifierWeight.shape[1] != k)
            throw new ArgumentException($"Classifier weight must be C x {k}, got [{string.Join(", ", classifierWeight.shape)}].", nameof(classifierWeight));
        if (labels.ndim != 1 || labels.shape[0] != n)
            throw new ArgumentException($"Expected {n} labels, got [{string.Join(", ", labels.shape)}].", nameof(labels));
        using var scope = torch.NewDisposeScope();
        var rows = classifierWeight.index_select(0, labels.to_type(ScalarType.Int64)).unsqueeze(1); // N x 1 x K
        var maps = featureMaps.reshape(n, k, featureMaps.shape[2] * featureMaps.shape[3]);             // N x K x L
        return torch.bmm(rows.to_type(maps.dtype), maps).squeeze(1).MoveToOuterDisposeScope();          // N x L
    }

    /// <summary>
    /// Min-max normalisation of each row to [0, 1]. A constant row (spread within <see cref="ConstantMapTolerance"/>
    /// of its magnitude) becomes all ones: the spec counts a constant map as all-specific.
    /// </summary>
    /// <param name="cams">... x L; normalised along the last dimension.</param>
    public static Tensor NormalizeMinMax(Tensor cams)
    {
        using var scope = torch.NewDisposeScope();
        var min = cams.amin(new long[] { -1 }, keepdim: true);
        var max = cams.amax(new long[] { -1 }, keepdim: true);
        var range = max - min;
        var magnitude = torch.maximum(min.abs(), max.abs());
        var constant = range <= magnitude * ConstantMapTolerance;
        var scaled = (cams - min) / torch.where(constant, torch.ones_like(range), range);
        return torch.where(constant, torch.ones_like(cams), scaled).MoveToOuterDisposeScope();
    }

    /// <summary>True where a location's vector is not entirely zero (zero vectors carry nothing to fuse).</summary>
    /// <param name="vectors">... x L x K.</param>
    /// <returns>... x L, bool.</returns>
    public static Tensor NonZero(Tensor vectors)
    {
        using var scope = torch.NewDisposeScope();
        return (vectors != 0).any(-1).MoveToOuterDisposeScope();
    }

    /// <summary>S_i: locations with normalised CAM above tau_s whose vector is not all zero.</summary>
    /// <param name="normalizedCams">... x L.</param>
    /// <param name="vectors">... x L x K.</param>
    public static Tensor SpecificMask(Tensor normalizedCams, Tensor vectors, double tauS)
    {
        using var scope = torch.NewDisposeScope();
        return (normalizedCams > tauS).logical_and(NonZero(vectors)).MoveToOuterDisposeScope();
    }

    /// <summary>G_i: locations with normalised CAM below tau_g whose vector is not all zero.</summary>
    /// <param name="normalizedCams">... x L.</param>
    /// <param name="vectors">... x L x K.</param>
    public static Tensor GenericMask(Tensor normalizedCams, Tensor vectors, double tauG)
    {
        using var scope = torch.NewDisposeScope();
        return (normalizedCams < tauG).logical_and(NonZero(vectors)).MoveToOuterDisposeScope();
    }
}
