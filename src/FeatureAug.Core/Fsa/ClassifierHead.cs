using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>
/// A linear classifier on pooled features (weights C x K, bias C; float32, CPU): the Phase-I FC or a Phase-II head.
/// Evaluating it on stored pooled test features needs no backbone pass.
/// </summary>
public sealed class ClassifierHead : IDisposable
{
    /// <summary>Takes copies of <paramref name="weight"/> (C x K) and <paramref name="bias"/> (C).</summary>
    public ClassifierHead(Tensor weight, Tensor bias)
    {
        if (weight.ndim != 2 || bias.ndim != 1 || bias.shape[0] != weight.shape[0])
            throw new ArgumentException($"Expected weight C x K and bias C, got [{string.Join(", ", weight.shape)}] and [{string.Join(", ", bias.shape)}].");
        using var noGrad = torch.no_grad();
        Weight = weight.detach().to_type(ScalarType.Float32).cpu().clone().DetachFromDisposeScope();
        Bias = bias.detach().to_type(ScalarType.Float32).cpu().clone().DetachFromDisposeScope();
    }

    /// <summary>C x K.</summary>
    public Tensor Weight { get; }
    /// <summary>C.</summary>
    public Tensor Bias { get; }
    public int NumClasses => (int)Weight.shape[0];
    public int FeatureChannels => (int)Weight.shape[1];

    /// <summary>A copy of a model's FC (a missing bias counts as zeros).</summary>
    public static ClassifierHead FromLinear(Linear classifier)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var weight = classifier.weight ?? throw new ArgumentException("The classifier has no weight.", nameof(classifier));
        using var zeros = torch.zeros(weight.shape[0]);
        return new ClassifierHead(weight, classifier.bias ?? zeros);
    }

    /// <summary>Logits W f + b of pooled features (N x K), N x C.</summary>
    public Tensor Logits(Tensor pooled)
    {
        if (pooled.ndim != 2 || pooled.shape[1] != FeatureChannels)
            throw new ArgumentException($"Pooled features must be N x {FeatureChannels}, got [{string.Join(", ", pooled.shape)}].", nameof(pooled));
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return torch.addmm(Bias, pooled.to_type(ScalarType.Float32).cpu(), Weight.t(), 1, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Predicted class of each row of <paramref name="pooled"/> (N x K), for ClassificationMetrics.</summary>
    public int[] Predict(Tensor pooled)
    {
        using var scope = torch.NewDisposeScope();
        return Logits(pooled).argmax(1).to_type(ScalarType.Int32).data<int>().ToArray();
    }

    /// <summary>Writes this head's weights into <paramref name="classifier"/> (e.g. the model's FC, to save the final model).</summary>
    public void CopyInto(Linear classifier)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var weight = classifier.weight ?? throw new ArgumentException("The classifier has no weight.", nameof(classifier));
        if (!weight.shape.SequenceEqual(Weight.shape))
            throw new ArgumentException($"The classifier's weight is [{string.Join(", ", weight.shape)}], this head's [{string.Join(", ", Weight.shape)}].", nameof(classifier));
        using var noGrad = torch.no_grad();
        weight.copy_(Weight);
        if (classifier.bias is { } bias) bias.copy_(Bias);
        else if (Bias.abs().max().item<float>() != 0)
            throw new ArgumentException("The classifier has no bias but this head's bias is non-zero.", nameof(classifier));
    }

    /// <summary>Whether every weight and bias is finite (a diverged Phase II leaves NaN or Inf).</summary>
    public bool IsFinite
    {
        get
        {
            using var scope = torch.NewDisposeScope();
            return torch.isfinite(Weight).all().item<bool>() && torch.isfinite(Bias).all().item<bool>();
        }
    }

    /// <summary>Writes the head as safetensors with PyTorch's Linear names (weight, bias).</summary>
    public void Save(string file)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor> { ["weight"] = Weight.detach().cpu().contiguous(), ["bias"] = Bias.detach().cpu().contiguous() };
        using var stream = File.Create(file);
        Safetensors.SaveStateDict(stream, tensors);
    }

    /// <summary>Reads a head written by <see cref="Save"/> (or any safetensors file with Linear's weight and bias).</summary>
    /// <exception cref="InvalidDataException">The file lacks 'weight' or 'bias'.</exception>
    public static ClassifierHead Load(string file)
    {
        var tensors = Safetensors.LoadStateDict(file);
        try
        {
            if (!tensors.TryGetValue("weight", out var weight) || !tensors.TryGetValue("bias", out var bias))
                throw new InvalidDataException($"{file}: a classifier head needs 'weight' and 'bias' tensors.");
            return new ClassifierHead(weight, bias);
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    public ClassifierHead Clone() => new(Weight, Bias);

    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}
