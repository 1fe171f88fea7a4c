using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Fsa;

/// <summary>The smallest network of the required shape: one 3x3 convolution with ReLU, GAP, one linear layer.</summary>
internal sealed class TinyFeatureClassifier : FeatureClassifier
{
    private readonly Conv2d _conv;
    private readonly Linear _fc;

    public TinyFeatureClassifier(int inputChannels, int featureChannels, int classes) : base("tiny")
    {
        _conv = nn.Conv2d(inputChannels, featureChannels, 3, padding: 1);
        _fc = nn.Linear(featureChannels, classes);
        FeatureChannels = featureChannels;
        NumClasses = classes;
        RegisterComponents();
    }

    public override int FeatureChannels { get; }
    public override int NumClasses { get; }
    public override Linear Classifier => _fc;

    public override Tensor ForwardFeatures(Tensor images) => nn.functional.relu(_conv.forward(images));
}

internal static class FsaTestData
{
    /// <summary>A small random image set (1 x 4 x 4) with the given labels.</summary>
    public static ImageDataset Images(int[] labels, int classes, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[labels.Length * 16];
        random.NextBytes(pixels);
        return new ImageDataset(pixels, labels, 1, 4, 4, Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray());
    }

    /// <summary>Hand-made features of one class: vectors and CAMs per sample (one view), pooled = mean of the vectors.</summary>
    public static ClassFeatures HandMadeClass(int classId, int classes, float[][][] vectors, float[][] cams, int height, int width)
    {
        int n = vectors.Length, locations = height * width, channels = vectors[0][0].Length;
        var flatVectors = vectors.SelectMany(sample => sample.SelectMany(v => v)).ToArray();
        var flatCams = cams.SelectMany(c => c).ToArray();
        var vectorTensor = torch.tensor(flatVectors, new long[] { n, 1, locations, channels });
        var pooled = vectorTensor.mean(new long[] { 2 });
        return new ClassFeatures(classId, Enumerable.Range(0, n).ToArray(), pooled, vectorTensor,
            torch.tensor(flatCams, new long[] { n, 1, locations }), torch.full(n, classes, 1f / classes), height, width);
    }

    /// <summary>
    /// Long-tailed synthetic features computed the way extraction does: non-negative maps around a class mean,
    /// pooled = GAP, CAM = own-label contraction with <paramref name="weight"/>, scores = softmax(W f + b).
    /// </summary>
    public static ExtractedFeatures Synthetic(int[] counts, int channels, int height, int width, int views, Tensor weight, Tensor bias, int seed)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator((ulong)seed);
        int classes = counts.Length, locations = height * width, viewsPerSample = 1 + views;
        var classMeans = torch.rand(new long[] { classes, channels }, generator: generator) * 2;
        var perClass = new List<ClassFeatures>();
        int next = 0;
        for (int c = 0; c < classes; c++)
        {
            int n = counts[c];
            var noise = torch.randn(new long[] { n, viewsPerSample, locations, channels }, generator: generator);
            var vectors = nn.functional.relu(classMeans[c] + noise);
            var pooled = vectors.mean(new long[] { 2 });
            var labels = torch.full(n * viewsPerSample, c, ScalarType.Int64);
            var maps = vectors.reshape(n * viewsPerSample, locations, channels).transpose(1, 2).reshape(n * viewsPerSample, channels, height, width);
            var cams = CamDecomposition.NormalizeMinMax(CamDecomposition.OwnLabelCams(maps, weight, labels)).reshape(n, viewsPerSample, locations);
            var scores = torch.softmax(torch.addmm(bias, pooled.select(1, 0), weight.t(), 1, 1), 1);
            perClass.Add(new ClassFeatures(c, Enumerable.Range(next, n).ToArray(), pooled, vectors, cams, scores, height, width));
            next += n;
        }
        return new ExtractedFeatures(perClass);
    }

    /// <summary>Same shape and exactly equal elements.</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var equal = a == b;
        using var all = equal.all();
        return all.item<bool>();
    }

    public static float[] Row(Tensor tensor) => tensor.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
}
