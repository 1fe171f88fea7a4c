using System.Text;
using FeatureAug.Core.Models;
using FeatureAug.Functions.Api;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Testing;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Functions.Tests;

/// <summary>The /api/models logic on a real registry (local store and Azurite).</summary>
public abstract class ModelsApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    protected abstract Task<TestEngine> StartEngineAsync();

    public async Task InitializeAsync() => _engine = await StartEngineAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private ModelsApi Api() => new(_engine.Store, _engine.Registry, RunDefaults.Standard, TestEngine.ApiBase, TimeProvider.System);

    private const string UploadedBackbone = "models/pets-resnet8/uploads/resnet8.safetensors";

    /// <summary>Stores the freshly initialised weights of resnet8 with the given shape as a safetensors checkpoint.</summary>
    private async Task PutBackboneAsync(string path, int inputChannels, int numClasses)
    {
        string file = Path.Combine(Path.GetTempPath(), $"featureaug-test-backbone-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var model = ModelFactory.Create("resnet8", inputChannels, numClasses))
                TorchSharp.PyBridge.PyBridgeModuleExtensions.save_safetensors(model, file);
            await _engine.Store.UploadFromFileAsync(path, file, default);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private const string Registration = """
        {
          "architecture": "resnet8",
          "classes": ["cat", "dog"],
          "inputChannels": 3,
          "dataset": { "kind": "imagefolder", "storeName": "pets", "imageSize": 32 },
          "nightlyRebalance": true,
          "backbonePath": "models/pets-resnet8/uploads/resnet8.safetensors"
        }
        """;

    [Fact]
    public async Task Put_RegistersWithAnImportedBackbone_ThenGetAndListShowIt()
    {
        await PutBackboneAsync(UploadedBackbone, inputChannels: 3, numClasses: 2);

        var created = await Api().PutAsync("pets", Encoding.UTF8.GetBytes(Registration), default);

        Assert.Equal(201, created.StatusCode);
        Assert.Equal("https://featureaug.example/api/models/pets", created.Headers["Location"]);
        var details = Assert.IsType<ModelDetails>(created.Body);
        // Content-addressed like the CLI's import: the name carries the first 16 hex digits of the file's SHA-256.
        string uploadedSha = (await _engine.Store.GetPropertiesAsync(UploadedBackbone, default))!.Sha256!;
        Assert.Equal($"models/pets/backbones/imported-{uploadedSha[..16]}.safetensors", details.Model.BackbonePath);
        Assert.Equal(uploadedSha, (await _engine.Store.GetPropertiesAsync(details.Model.BackbonePath!, default))!.Sha256);
        Assert.Equal(["cat", "dog"], details.Model.Classes);
        Assert.True(details.Model.NightlyRebalance);
        Assert.Null(details.Champion);
        Assert.Empty(details.History);

        var fetched = Assert.IsType<ModelDetails>((await Api().GetAsync("pets", default)).Body);
        IReadOnlyList<string> none = Array.Empty<string>();
        Assert.Equal(details.Model with { Classes = none }, fetched.Model with { Classes = none });
        Assert.Equal(details.Model.Classes, fetched.Model.Classes);
        var listed = (await Api().ListAsync(default)).BodyJson();
        Assert.Contains("\"name\": \"pets\"", listed);
        Assert.Contains("\"uri\": \"https://featureaug.example/api/models/pets\"", listed);
    }

    [Fact]
    public async Task Put_Again_Replaces_KeepingRegistrationTimeAndBackbone_AndGetShowsChampionAndHistory()
    {
        await PutBackboneAsync(UploadedBackbone, inputChannels: 3, numClasses: 2);
        var first = Assert.IsType<ModelDetails>((await Api().PutAsync("pets", Encoding.UTF8.GetBytes(Registration), default)).Body);
        await _engine.Registry.TryPromoteAsync("pets", new ChampionPointer(0, "run-1", "b", "h", "m", "fsa", 0.8, DateTimeOffset.UtcNow), 0, null, default);

        string withoutBackbone = Registration.Replace(",\n  \"backbonePath\": \"models/pets-resnet8/uploads/resnet8.safetensors\"", "").Replace("\"nightlyRebalance\": true", "\"nightlyRebalance\": false");
        var replaced = await Api().PutAsync("pets", Encoding.UTF8.GetBytes(withoutBackbone), default);

        Assert.Equal(200, replaced.StatusCode);
        var details = Assert.IsType<ModelDetails>(replaced.Body);
        Assert.False(details.Model.NightlyRebalance);
        Assert.Equal(first.Model.RegisteredUtc, details.Model.RegisteredUtc);
        Assert.Equal(first.Model.BackbonePath, details.Model.BackbonePath);
        Assert.Equal("run-1", details.Champion!.RunId);
        Assert.Equal("promote", Assert.Single(details.History).Action);
    }

    [Theory]
    [InlineData(3, 5)] // wrong class count
    [InlineData(1, 2)] // wrong input channels
    public async Task Put_BackboneThatDoesNotFitTheDeclaredArchitecture_Is400NamingBackbonePath_AndStoresNothing(
        int checkpointChannels, int checkpointClasses)
    {
        await PutBackboneAsync(UploadedBackbone, checkpointChannels, checkpointClasses);

        var result = await Api().PutAsync("pets", Encoding.UTF8.GetBytes(Registration), default);

        Assert.Equal(400, result.StatusCode);
        var problem = Assert.IsType<ProblemBody>(result.Body);
        var error = Assert.Single(problem.Errors!);
        Assert.Equal("backbonePath", error.Key);
        string message = Assert.Single(error.Value);
        Assert.StartsWith($"backbonePath: '{UploadedBackbone}' does not fit resnet8 with 3 input channels and 2 classes", message);
        // The shapes are named: a 1-channel kernel would otherwise broadcast silently into the 3-channel one.
        Assert.Contains($"where the architecture has [", message);
        Assert.Null(await _engine.Registry.GetAsync("pets", default));
        Assert.Empty(await _engine.Store.ListAsync("models/pets", default));
    }

    [Fact]
    public async Task Put_BackboneOfAnUnknownFormat_Is400NamingBackbonePath()
    {
        await _engine.PutAsync("models/pets-resnet8/uploads/resnet8.onnx", "onnx bytes");

        var result = await Api().PutAsync("pets", Encoding.UTF8.GetBytes(Registration.Replace(UploadedBackbone, "models/pets-resnet8/uploads/resnet8.onnx")), default);

        Assert.Equal(400, result.StatusCode);
        var error = Assert.Single(Assert.IsType<ProblemBody>(result.Body).Errors!);
        Assert.Equal("backbonePath", error.Key);
        Assert.Contains("must be .safetensors or a PyTorch state_dict", Assert.Single(error.Value));
        Assert.Empty(await _engine.Store.ListAsync("models/pets", default));
    }

    [Fact]
    public async Task Put_InvalidRegistration_Is400NamingEachField()
    {
        string body = """
            {
              "architecture": "resnet999",
              "classes": ["cat", "cat"],
              "inputChannels": 2,
              "dataset": { "kind": "imagefolder", "dataDir": "/srv", "imageSize": 4 },
              "nightlyRebalance": true,
              "backbonePath": "models/pets-resnet8/uploads/absent.safetensors"
            }
            """;

        var result = await Api().PutAsync("pets", Encoding.UTF8.GetBytes(body), default);

        Assert.Equal(400, result.StatusCode);
        Assert.Equal(
            new[] { "architecture", "backbonePath", "classes", "dataset.dataDir", "dataset.imageSize", "inputChannels" },
            Assert.IsType<ProblemBody>(result.Body).Errors!.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Null(await _engine.Registry.GetAsync("pets", default));
    }

    [Theory]
    [InlineData("uploads/resnet8.safetensors")]
    [InlineData("models")]
    public async Task Put_BackboneOutsideTheStoresFolders_Is400(string backbonePath)
    {
        string body = Registration.Replace("models/pets-resnet8/uploads/resnet8.safetensors", backbonePath);

        var result = await Api().PutAsync("pets", Encoding.UTF8.GetBytes(body), default);

        Assert.Equal(400, result.StatusCode);
        var problem = Assert.Single(Assert.IsType<ProblemBody>(result.Body).Errors!);
        Assert.Equal("backbonePath", problem.Key);
        Assert.StartsWith($"'{backbonePath}' is not under datasets/, runs/, models/", Assert.Single(problem.Value));
    }

    [Fact]
    public async Task UnknownModel_Is404_AndAPathInTheName_Is400()
    {
        Assert.Equal(404, (await Api().GetAsync("nobody", default)).StatusCode);
        var traversal = await Api().PutAsync("..", Encoding.UTF8.GetBytes(Registration), default);
        Assert.Equal(400, traversal.StatusCode);
        Assert.Equal(["name"], Assert.IsType<ProblemBody>(traversal.Body).Errors!.Keys);
    }
}

public sealed class ModelsApiLocalTests : ModelsApiTests
{
    protected override Task<TestEngine> StartEngineAsync() => TestEngine.StartLocalAsync();
}

[Collection(AzuriteCollection.Name)]
public sealed class ModelsApiAzuriteTests(AzuriteFixture azurite) : ModelsApiTests
{
    protected override Task<TestEngine> StartEngineAsync() => TestEngine.StartAzuriteAsync(azurite);
}
