using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FeatureAug.Core.Evaluation;

/// <summary>
/// The frozen backbone's pooled features of a labelled set (the validation or the test set), extracted once: every
/// head (Phase I, the Phase-II heads, the post-hoc heads, a champion on the same backbone) is then measured on them
/// without another backbone pass.
/// </summary>
public sealed class EvaluationFeatures : IDisposable
{
    private readonly Tensor pooled;

    private EvaluationFeatures(Tensor pooled, IReadOnlyList<int> labels)
    {
        this.pooled = pooled;
        Labels = labels;
    }

    /// <summary>The true class of each row.</summary>
    public IReadOnlyList<int> Labels { get; }

    public int Count => Labels.Count;

    /// <summary>Pooled features of every image of <paramref name="data"/> (clean view, dataset order).</summary>
    public static EvaluationFeatures Extract(FeatureClassifier model, ImageDataset data, Normalization normalization, int batchSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new EvaluationFeatures(FeatureExtractor.ExtractPooled(model, data, normalization, batchSize, device), data.Labels);
    }

    /// <summary>Features already pooled (N x K; a copy is kept) with their labels.</summary>
    public static EvaluationFeatures FromPooled(Tensor pooled, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(pooled);
        ArgumentNullException.ThrowIfNull(labels);
        if (pooled.ndim != 2 || pooled.shape[0] != labels.Count)
            throw new ArgumentException($"Pooled features must be N x K for {labels.Count} labels, got [{string.Join(", ", pooled.shape)}].", nameof(pooled));
        return new EvaluationFeatures(pooled.detach().to_type(ScalarType.Float32).cpu().clone().DetachFromDisposeScope(), labels.ToArray());
    }

    /// <summary>Balanced, per-class and many/medium/few accuracy of <paramref name="head"/>.</summary>
    public ClassificationMetrics Measure(ClassifierHead head, IReadOnlyList<int> trainCounts, IReadOnlyCollection<int> headClasses)
    {
        ArgumentNullException.ThrowIfNull(head);
        return ClassificationMetrics.Compute(head.Predict(pooled), Labels, trainCounts, headClasses);
    }

    /// <summary>Writes the features as safetensors: 'pooled' (N x K, float32) and 'labels' (N, int64).</summary>
    public void Save(string file)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["pooled"] = pooled.contiguous(),
            ["labels"] = torch.tensor(Labels.Select(l => (long)l).ToArray()),
        };
        using var stream = File.Create(file);
        Safetensors.SaveStateDict(stream, tensors);
    }

    /// <summary>Reads features written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file lacks 'pooled' or 'labels', or their lengths differ.</exception>
    public static EvaluationFeatures Load(string file)
    {
        var tensors = Safetensors.LoadStateDict(file);
        if (!tensors.TryGetValue("pooled", out var features) || !tensors.TryGetValue("labels", out var labels) || features.ndim != 2 || labels.shape[0] != features.shape[0])
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
            throw new InvalidDataException($"{file}: evaluation features need 'pooled' (N x K) and 'labels' (N).");
        }
        var labelArray = labels.to_type(ScalarType.Int64).data<long>().Select(l => (int)l).ToArray();
        labels.Dispose();
        if (features.dtype == ScalarType.Float32) return new EvaluationFeatures(features, labelArray);
        using (features) return new EvaluationFeatures(features.to_type(ScalarType.Float32), labelArray);
    }

    public void Dispose() => pooled.Dispose();
}
