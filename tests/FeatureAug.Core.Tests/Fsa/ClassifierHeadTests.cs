using FeatureAug.Core.Fsa;
using TorchSharp;

namespace FeatureAug.Core.Tests.Fsa;

public sealed class ClassifierHeadTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("featureaug-head-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void ASavedHeadLoadsBackBitForBit()
    {
        using var weight = torch.tensor(new float[] { 1.5f, -2f, 0.25f, 3f, 0f, -0.125f }, 2, 3);
        using var bias = torch.tensor(new float[] { 0.5f, -1f });
        using var head = new ClassifierHead(weight, bias);
        string file = Path.Combine(directory, "head.safetensors");

        head.Save(file);
        using var loaded = ClassifierHead.Load(file);

        Assert.Equal(head.Weight.data<float>().ToArray(), loaded.Weight.data<float>().ToArray());
        Assert.Equal(head.Bias.data<float>().ToArray(), loaded.Bias.data<float>().ToArray());
        Assert.Equal(new long[] { 2, 3 }, loaded.Weight.shape);
    }

    [Fact]
    public void AFileWithoutBiasIsRefusedByName()
    {
        string file = Path.Combine(directory, "weight-only.safetensors");
        using (var weight = torch.ones(2, 3))
        using (var stream = File.Create(file))
            TorchSharp.PyBridge.Safetensors.SaveStateDict(stream, new Dictionary<string, torch.Tensor> { ["weight"] = weight });

        var error = Assert.Throws<InvalidDataException>(() => ClassifierHead.Load(file));
        Assert.Contains("'weight' and 'bias'", error.Message);
    }

    [Theory]
    [InlineData(float.NaN, false)]
    [InlineData(float.PositiveInfinity, false)]
    [InlineData(1f, true)]
    public void IsFiniteLooksAtEveryWeightAndBias(float value, bool finite)
    {
        using var weight = torch.zeros(2, 2);
        using var bias = torch.tensor(new[] { 0f, value });
        using var head = new ClassifierHead(weight, bias);
        Assert.Equal(finite, head.IsFinite);
    }
}

public sealed class ClassFeaturesTests
{
    private static ClassFeatures Make(float pooledValue)
    {
        using var scope = torch.NewDisposeScope();
        return new ClassFeatures(2, [4, 9], torch.full(2, 1, 3, pooledValue), torch.zeros(2, 1, 4, 3), torch.zeros(2, 1, 4),
            torch.zeros(2, 5), 2, 2);
    }

    [Theory]
    [InlineData(0.5f, true)]
    [InlineData(float.NaN, false)]
    [InlineData(float.NegativeInfinity, false)]
    public void PooledIsFiniteSeesNaNAndInf(float value, bool finite)
    {
        using var features = Make(value);
        Assert.Equal(finite, features.PooledIsFinite);
    }

    [Fact]
    public void WithSampleIndicesSharesTheTensorsUnderNewIndices()
    {
        using var features = Make(1f);
        var relabelled = features.WithSampleIndices([40, 90]);

        Assert.Equal(new[] { 40, 90 }, relabelled.SampleIndices);
        Assert.Same(features.Pooled, relabelled.Pooled);
        Assert.Equal(features.ClassId, relabelled.ClassId);
        Assert.Throws<ArgumentException>(() => features.WithSampleIndices([1]));
    }
}
