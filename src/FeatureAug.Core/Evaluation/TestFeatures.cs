using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Models;
using static TorchSharp.torch;

namespace FeatureAug.Core.Evaluation;

/// <summary>
/// The frozen backbone's pooled features of a labelled evaluation set, extracted once: every head (Phase I, the
/// Phase-II heads, a champion on the same backbone) is then measured on them without another backbone pass.
/// </summary>
public sealed class TestFeatures : IDisposable
{
    private readonly Tensor pooled;
    private readonly IReadOnlyList<int> labels;

    private TestFeatures(Tensor pooled, IReadOnlyList<int> labels)
    {
        this.pooled = pooled;
        this.labels = labels;
    }

    /// <summary>Pooled features of every image of <paramref name="data"/> (clean view, dataset order).</summary>
    public static TestFeatures Extract(FeatureClassifier model, ImageDataset data, Normalization normalization, int batchSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new TestFeatures(FeatureExtractor.ExtractPooled(model, data, normalization, batchSize, device), data.Labels);
    }

    /// <summary>Balanced, per-class and many/medium/few accuracy of <paramref name="head"/>.</summary>
    public ClassificationMetrics Measure(ClassifierHead head, IReadOnlyList<int> trainCounts, IReadOnlyCollection<int> headClasses)
    {
        ArgumentNullException.ThrowIfNull(head);
        return ClassificationMetrics.Compute(head.Predict(pooled), labels, trainCounts, headClasses);
    }

    public void Dispose() => pooled.Dispose();
}
