using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FeatureAug.Core.Models;

/// <summary>
/// A network that ends in a last feature map F (N x K x H x W), global average pooling and one linear
/// classifier, the shape Feature Space Augmentation needs: CAM is a contraction of F with the
/// classifier weights, so no hooks are required.
/// </summary>
public abstract class FeatureClassifier : nn.Module<Tensor, Tensor>
{
    protected FeatureClassifier(string name) : base(name) { }

    /// <summary>Number of feature channels K of the last feature map.</summary>
    public abstract int FeatureChannels { get; }

    /// <summary>Number of output classes C.</summary>
    public abstract int NumClasses { get; }

    /// <summary>The final linear layer (weights C x K, bias C).</summary>
    public abstract Linear Classifier { get; }

    /// <summary>The last feature map, N x K x H x W.</summary>
    public abstract Tensor ForwardFeatures(Tensor images);

    /// <summary>Pooled features, N x K.</summary>
    public Tensor ForwardPooled(Tensor images)
    {
        using var map = ForwardFeatures(images);
        return map.mean(new long[] { 2, 3 });
    }

    public override Tensor forward(Tensor images)
    {
        using var pooled = ForwardPooled(images);
        return Classifier.forward(pooled);
    }
}
