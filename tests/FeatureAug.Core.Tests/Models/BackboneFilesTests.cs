using FeatureAug.Core.Fsa;
using FeatureAug.Core.Models;
using TorchSharp;
using TorchSharp.PyBridge;

namespace FeatureAug.Core.Tests.Models;

public sealed class BackboneFilesTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("featureaug-backbone-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void ASavedModelLoadsIntoAFreshOneAndTheExportCarriesTheGivenHead()
    {
        torch.manual_seed(1);
        using var trained = ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 4);
        using var weight = torch.full(4, trained.FeatureChannels, 0.5f);
        using var bias = torch.tensor(new[] { 1f, 2f, 3f, 4f });
        using var head = new ClassifierHead(weight, bias);
        string file = Path.Combine(directory, "model.safetensors");

        BackboneFiles.SaveWithHead(trained, head, file);
        torch.manual_seed(2);
        using var fresh = ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 4);
        BackboneFiles.LoadInto(fresh, file);

        Assert.False(fresh.training);
        foreach (var (name, expected) in trained.state_dict())
            Assert.True(expected.equal(fresh.state_dict()[name]).all().item<bool>(), $"{name} differs after the round trip");
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, fresh.Classifier.bias!.data<float>().ToArray());
    }

    [Fact]
    public void AStateDictOfAnotherShapeIsRefusedBeforeAnythingIsCopied()
    {
        using var other = ModelFactory.Create("resnet8", inputChannels: 3, numClasses: 4);
        string file = Path.Combine(directory, "rgb.safetensors");
        other.save_safetensors(file);
        using var gray = ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 4);
        using var before = gray.state_dict().Values.First().clone();

        var error = Assert.Throws<InvalidDataException>(() => BackboneFiles.LoadInto(gray, file));

        Assert.Contains("where the architecture has", error.Message);
        Assert.True(before.equal(gray.state_dict().Values.First()).all().item<bool>(), "a refused file must leave the model as it was");
    }

    [Fact]
    public void AFileThatIsNoStateDictIsNamedSo()
    {
        string file = Path.Combine(directory, "junk.pt");
        File.WriteAllText(file, "not a pickle");
        using var model = ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 2);

        var error = Assert.Throws<InvalidDataException>(() => BackboneFiles.LoadInto(model, file));
        Assert.StartsWith("it is not a readable state dict", error.Message);
    }

    [Theory]
    [InlineData("a.safetensors", true)]
    [InlineData("a.PT", true)]
    [InlineData("a.pth", true)]
    [InlineData("a.bin", true)]
    [InlineData("a.json", false)]
    [InlineData("a", false)]
    public void OnlyWeightFilesAreRecognised(string file, bool expected) => Assert.Equal(expected, BackboneFiles.IsWeightFile(file));
}
