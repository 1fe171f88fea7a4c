using FeatureAug.Core.Models;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using TorchSharp.PyBridge;

namespace FeatureAug.Workflow.Tests.Models;

/// <summary>The one import routine behind `featureaug models register` (a local file) and PUT /api/models (a stored artifact).</summary>
public sealed class BackboneImportTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("featureaug-backbone-import-").FullName;
    private readonly IArtifactStore _store;

    public BackboneImportTests() => _store = new LocalArtifactStore(Path.Combine(_root, "store"));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Checkpoint(string name, int inputChannels, int numClasses)
    {
        string file = Path.Combine(_root, name);
        using var model = ModelFactory.Create("resnet8", inputChannels, numClasses);
        if (name.EndsWith(".safetensors", StringComparison.Ordinal)) model.save_safetensors(file);
        else model.save_py(file);
        return file;
    }

    [Theory]
    [InlineData("backbone.safetensors")]
    [InlineData("backbone.pt")]
    public async Task AFittingFile_IsStoredOnceUnderItsContentHash(string name)
    {
        string file = Checkpoint(name, 1, 5);

        string path = await BackboneImport.ImportAsync(_store, "digits", "resnet8", 1, 5, file, default);
        string again = await BackboneImport.ImportAsync(_store, "digits", "resnet8", 1, 5, file, default);

        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
        Assert.Equal($"models/digits/backbones/imported-{sha[..16]}{Path.GetExtension(name)}", path);
        Assert.Equal(path, again);
        Assert.Equal([path], await _store.ListAsync("models/digits", default));
    }

    [Fact]
    public async Task AStoredArtifact_GoesThroughTheSameRoutine_AndAPathAlreadyTheModelsIsKept()
    {
        string file = Checkpoint("backbone.safetensors", 1, 5);
        string local = await BackboneImport.ImportAsync(_store, "digits", "resnet8", 1, 5, file, default);
        await _store.UploadFromFileAsync("models/digits/uploads/backbone.safetensors", file, default);

        string fromUpload = await BackboneImport.ImportFromStoreAsync(_store, "digits", "resnet8", 1, 5,
            "models/digits/uploads/backbone.safetensors", "backbonePath", default);
        string kept = await BackboneImport.ImportFromStoreAsync(_store, "digits", "resnet8", 1, 5, local, "backbonePath", default);

        Assert.Equal(local, fromUpload);
        Assert.Equal(local, kept);
    }

    [Theory]
    [InlineData(3, 5, "conv1.weight is [")] // input channels: TorchSharp would broadcast the 1-channel kernel without the shape check
    [InlineData(1, 7, "fc.weight is [5, ")] // class count
    public async Task AMismatchIsBadInputNamingTheFieldAndTheShapes_AndStoresNothing(int channels, int classes, string named)
    {
        string file = Checkpoint("backbone.pt", 1, 5);

        var error = await Assert.ThrowsAsync<InvalidRunInputException>(() =>
            BackboneImport.ImportAsync(_store, "digits", "resnet8", channels, classes, file, default));

        Assert.StartsWith($"backbone: '{file}' does not fit resnet8 with {channels} input channels and {classes} classes: ", error.Message);
        Assert.Contains("where the architecture has", error.Message);
        Assert.Contains(named, error.Message);
        Assert.Empty(await _store.ListAsync("models", default));
    }

    [Fact]
    public async Task AnUnreadableFileOrAMissingArtifact_IsBadInputNamingTheField()
    {
        string junk = Path.Combine(_root, "junk.safetensors");
        await File.WriteAllTextAsync(junk, "not a checkpoint");
        var unreadable = await Assert.ThrowsAsync<InvalidRunInputException>(() =>
            BackboneImport.ImportAsync(_store, "digits", "resnet8", 1, 5, junk, default));
        Assert.Contains("is not a readable state dict", unreadable.Message);

        var missing = await Assert.ThrowsAsync<InvalidRunInputException>(() =>
            BackboneImport.ImportFromStoreAsync(_store, "digits", "resnet8", 1, 5, "models/digits/uploads/absent.pt", "backbonePath", default));
        Assert.Equal("backbonePath: no artifact at 'models/digits/uploads/absent.pt'; upload the checkpoint to the store first.", missing.Message);
        Assert.Empty(await _store.ListAsync("models", default));
    }
}
