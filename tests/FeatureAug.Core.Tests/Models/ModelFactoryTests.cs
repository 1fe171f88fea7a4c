using FeatureAug.Core.Models;
using FeatureAug.Core.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Models;

[Collection(GlobalTorchRandomCollection.Name)]
public class ModelFactoryTests
{
    [Theory]
    [InlineData("resnet8", 64, 7, 8)]
    [InlineData("resnet20", 64, 7, 8)]
    [InlineData("resnet32", 64, 7, 8)]
    [InlineData("resnet44", 64, 7, 8)]
    [InlineData("resnet56", 64, 7, 8)]
    [InlineData("resnet18", 512, 4, 4)]
    [InlineData("resnet34", 512, 4, 4)]
    public void OutputShapesFor28And32PixelInputs(string name, int featureChannels, int side28, int side32)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        using var grayscale = ModelFactory.Create(name, inputChannels: 1, numClasses: 10);
        grayscale.eval();
        using var noGrad = torch.no_grad();
        var small = torch.randn(2, 1, 28, 28);
        Assert.Equal(new long[] { 2, featureChannels, side28, side28 }, grayscale.ForwardFeatures(small).shape);
        Assert.Equal(new long[] { 2, featureChannels }, grayscale.ForwardPooled(small).shape);
        Assert.Equal(new long[] { 2, 10 }, grayscale.call(small).shape);
        Assert.Equal(featureChannels, grayscale.FeatureChannels);
        Assert.Equal(10, grayscale.NumClasses);

        using var colour = ModelFactory.Create(name, inputChannels: 3, numClasses: 100);
        colour.eval();
        var cifar = torch.randn(2, 3, 32, 32);
        Assert.Equal(new long[] { 2, featureChannels, side32, side32 }, colour.ForwardFeatures(cifar).shape);
        Assert.Equal(new long[] { 2, 100 }, colour.call(cifar).shape);
    }

    // Published: He et al. 2016 Table 6 (0.27M, 0.46M, 0.66M, 0.85M) for the option-A CIFAR ResNets, and
    // 11.17M for pytorch-cifar's ResNet18. The exact counts follow from the layer shapes, e.g. ResNet-8:
    // stem 3*16*9 + bn 32, stage 1: 2*(16*16*9) + 2*32, stage 2: 16*32*9 + 32*32*9 + 2*64,
    // stage 3: 32*64*9 + 64*64*9 + 2*128, fc 64*10 + 10 = 75,290; each extra block per stage adds 97,216.
    [Theory]
    [InlineData("resnet8", 75_290, 0.075e6)]
    [InlineData("resnet20", 269_722, 0.27e6)]
    [InlineData("resnet32", 464_154, 0.46e6)]
    [InlineData("resnet44", 658_586, 0.66e6)]
    [InlineData("resnet56", 853_018, 0.85e6)]
    [InlineData("resnet18", 11_173_962, 11.17e6)]
    [InlineData("resnet34", 21_282_122, 21.28e6)]
    public void ParameterCountsMatchThePublishedOnes(string name, long exact, double published)
    {
        using var model = ModelFactory.Create(name, inputChannels: 3, numClasses: 10);
        long count = model.parameters().Sum(p => p.numel());
        Assert.Equal(exact, count);
        Assert.Equal(exact, ModelFactory.ParameterCount(name, inputChannels: 3, numClasses: 10));
        Assert.InRange(count, published * 0.99, published * 1.01);
    }

    [Theory]
    [InlineData("resnet20", 2 * 16 * 9)]
    [InlineData("resnet18", 2 * 64 * 9)]
    public void OneInputChannelRemovesTwoChannelsOfStemWeights(string name, long fewer)
    {
        using var colour = ModelFactory.Create(name, inputChannels: 3, numClasses: 10);
        using var grayscale = ModelFactory.Create(name, inputChannels: 1, numClasses: 10);
        Assert.Equal(colour.parameters().Sum(p => p.numel()) - fewer, grayscale.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void StateDictKeysUsePyTorchNames()
    {
        using var model = ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 10);
        string[] batchNorm = { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" };
        var expected = new List<string> { "conv1.weight" };
        expected.AddRange(batchNorm.Select(b => "bn1." + b));
        foreach (var layer in new[] { "layer1.0", "layer2.0", "layer3.0" })
        {
            expected.Add($"{layer}.conv1.weight");
            expected.AddRange(batchNorm.Select(b => $"{layer}.bn1.{b}"));
            expected.Add($"{layer}.conv2.weight");
            expected.AddRange(batchNorm.Select(b => $"{layer}.bn2.{b}"));
        }
        expected.Add("fc.weight");
        expected.Add("fc.bias");

        Assert.Equal(expected.OrderBy(k => k, StringComparer.Ordinal), model.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void ProjectionShortcutsAppearOnlyWhereTheShapeChanges()
    {
        using var model = ModelFactory.Create("resnet18", inputChannels: 3, numClasses: 10);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Contains("layer1.1.conv2.weight", keys);
        Assert.Contains("layer4.1.bn2.running_var", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("layer1.0.shortcut", StringComparison.Ordinal));
        foreach (var layer in new[] { "layer2", "layer3", "layer4" })
        {
            Assert.Contains($"{layer}.0.shortcut.0.weight", keys);
            Assert.Contains($"{layer}.0.shortcut.1.running_mean", keys);
            Assert.DoesNotContain($"{layer}.1.shortcut.0.weight", keys);
        }
        Assert.Equal(new long[] { 10, 512 }, model.state_dict()["fc.weight"].shape);
    }

    [Fact]
    public void ZeroPaddingShortcutSubsamplesAndPadsChannels()
    {
        using var scope = torch.NewDisposeScope();
        using var shortcut = new ZeroPaddingShortcut(inPlanes: 2, planes: 4, stride: 2);
        var input = torch.arange(2 * 4 * 4, dtype: ScalarType.Float32).reshape(1, 2, 4, 4);
        var output = shortcut.call(input);
        Assert.Equal(new long[] { 1, 4, 2, 2 }, output.shape);
        // One zero channel on each side; the middle channels are x[:, c, ::2, ::2].
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 2, 8, 10, 16, 18, 24, 26, 0, 0, 0, 0 }, output.data<float>().ToArray());
    }

    [Fact]
    public void SeededConstructionIsRepeatableAndKaimingScaled()
    {
        torch.manual_seed(42);
        using var first = ModelFactory.Create("resnet20", inputChannels: 3, numClasses: 10);
        torch.manual_seed(42);
        using var second = ModelFactory.Create("resnet20", inputChannels: 3, numClasses: 10);
        torch.manual_seed(43);
        using var third = ModelFactory.Create("resnet20", inputChannels: 3, numClasses: 10);
        var a = first.state_dict();
        var b = second.state_dict();
        Assert.All(a.Keys, key => Assert.True(a[key].Equals(b[key]), key));
        Assert.False(a["layer3.2.conv2.weight"].Equals(third.state_dict()["layer3.2.conv2.weight"]));

        // Kaiming normal, fan-in, ReLU gain: std = sqrt(2 / (64 * 3 * 3)) = 0.0589 for the 36,864 weights.
        double std = a["layer3.2.conv2.weight"].std().item<float>();
        Assert.InRange(std, 0.0589 * 0.97, 0.0589 * 1.03);
    }

    [Fact]
    public void UnknownNameListsTheValidOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelFactory.Create("resnet19", 3, 10));
        Assert.Contains("resnet19", error.Message);
        foreach (var name in ModelFactory.Names) Assert.Contains(name, error.Message);
        Assert.Equal(new[] { "resnet8", "resnet20", "resnet32", "resnet44", "resnet56", "resnet18", "resnet34" }, ModelFactory.Names);
    }
}
