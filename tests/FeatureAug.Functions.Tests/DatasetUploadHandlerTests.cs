using System.Text.Json;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Testing;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Functions.Tests;

/// <summary>The upload trigger's logic on a real store and the embedded engine; run on the local store and on Azurite.</summary>
public abstract class DatasetUploadHandlerTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    protected abstract Task<TestEngine> StartEngineAsync();

    public async Task InitializeAsync() => _engine = await StartEngineAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private DatasetUploadHandler Handler() => new(_engine.Store, _engine.Registry, _engine.Client);

    private async Task UploadDatasetAsync(string name, string manifest)
    {
        // The files first, the manifest last, as an uploader must.
        await _engine.PutAsync($"datasets/{name}/train/cereal/0.png", "not a png");
        await _engine.PutAsync($"datasets/{name}/test/cereal/0.png", "not a png");
        await _engine.PutAsync($"datasets/{name}/dataset.json", manifest);
    }

    private static string Manifest(string name, string model = "shelves-resnet8") =>
        ManifestParsingTests.ValidManifest.Replace("\"name\": \"shelves\"", $"\"name\": \"{name}\"")
            .Replace("\"modelName\": \"shelves-resnet8\"", $"\"modelName\": \"{model}\"");

    [Fact]
    public async Task NewManifest_RegistersTheModel_AndStartsOneFullRunPerManifestVersion()
    {
        await UploadDatasetAsync("shelves", Manifest("shelves"));
        string etag = (await _engine.Store.GetPropertiesAsync("datasets/shelves/dataset.json", default))!.ETag;

        var first = await Handler().HandleAsync("shelves", default);
        var repeated = await Handler().HandleAsync("shelves", default);

        Assert.Equal(UploadOutcomeKind.Started, first.Kind);
        Assert.Equal(RunIds.ForDatasetUpload("shelves", etag), first.RunId);
        Assert.Equal(RunMode.Full, first.Mode);
        Assert.Equal(UploadOutcomeKind.AlreadyStarted, repeated.Kind);
        Assert.Equal(first.RunId, repeated.RunId);

        var model = await _engine.Registry.GetAsync("shelves-resnet8", default);
        Assert.NotNull(model);
        Assert.Equal("resnet8", model.Architecture);
        Assert.Equal(["cereal", "coffee", "tea"], model.Classes);
        Assert.True(model.NightlyRebalance);
        Assert.Equal(new DatasetReference(Kind: "imagefolder", StoreName: "shelves", ImageSize: 32, Channels: 3), model.Dataset);

        var instance = await _engine.Client.GetInstanceAsync(first.RunId!, getInputsAndOutputs: true);
        var request = instance!.ReadInputAs<RunRequest>()!;
        Assert.Equal("shelves-resnet8", request.ModelName);
        Assert.Equal(model.Dataset, request.Dataset);

        // A new upload of the manifest is a new version: a new run.
        await _engine.PutAsync("datasets/shelves/dataset.json", Manifest("shelves"));
        var reupload = await Handler().HandleAsync("shelves", default);
        Assert.Equal(UploadOutcomeKind.Started, reupload.Kind);
        Assert.NotEqual(first.RunId, reupload.RunId);
        await _engine.WaitForEndAsync(first.RunId!);
        await _engine.WaitForEndAsync(reupload.RunId!);
    }

    [Fact]
    public async Task BadManifest_IsRejected_WithItsProblemsWrittenBesideIt_AndNothingStarted()
    {
        string manifest = Manifest("broken").Replace("\"format\": \"imagefolder\",", "").Replace("\"channels\": 3,", "\"channels\": 3, \"colour\": true,");
        await UploadDatasetAsync("broken", manifest);

        var outcome = await Handler().HandleAsync("broken", default);

        Assert.Equal(UploadOutcomeKind.Rejected, outcome.Kind);
        Assert.Equal(new[] { "colour", "format" }, outcome.Errors.Keys.ToArray());
        var written = await _engine.Store.ReadJsonAsync<DatasetUploadProblems>(DatasetUploadHandler.ProblemsPath("broken"), default);
        Assert.Equal(outcome.Errors.Keys, written.Errors.Keys);
        Assert.Equal(["required field is missing."], written.Errors["format"]);
        Assert.Null(await _engine.Client.GetInstanceAsync(outcome.RunId!));
        Assert.Null(await _engine.Registry.GetAsync("shelves-resnet8", default));
    }

    [Fact]
    public async Task MissingListedFiles_AndAnUnknownModelWithoutArchitecture_AreRejected()
    {
        string manifest = Manifest("partial", model: "new-model")
            .Replace("\"paths\": [\"train/\", \"test/\"]", "\"paths\": [\"train/\", \"valid/\", \"labels.txt\"]");
        await UploadDatasetAsync("partial", manifest);

        var missingFiles = await Handler().HandleAsync("partial", default);

        Assert.Equal(UploadOutcomeKind.Rejected, missingFiles.Kind);
        Assert.Equal(new[] { "paths[1]", "paths[2]" }, missingFiles.Errors.Keys.ToArray());
        Assert.Equal(["no files under datasets/partial/valid/; upload the data set's files before its manifest."], missingFiles.Errors["paths[1]"]);

        await _engine.PutAsync("datasets/partial/dataset.json", Manifest("partial", model: "new-model").Replace("\"architecture\": \"resnet8\",", ""));
        var noArchitecture = await Handler().HandleAsync("partial", default);
        Assert.Equal(["architecture"], noArchitecture.Errors.Keys);

        // Fixed: the stale problems file goes away and the run starts.
        await _engine.PutAsync("datasets/partial/dataset.json", Manifest("partial", model: "new-model"));
        var fixedUpload = await Handler().HandleAsync("partial", default);
        Assert.Equal(UploadOutcomeKind.Started, fixedUpload.Kind);
        Assert.False(await _engine.Store.ExistsAsync(DatasetUploadHandler.ProblemsPath("partial"), default));
        await _engine.WaitForEndAsync(fixedUpload.RunId!);
    }

    [Fact]
    public async Task RegisteredModelWithABackbone_IsRebalanced_AndClassesMustMatch()
    {
        await _engine.Registry.RegisterAsync(new ModelRecord("shelves-resnet8", "resnet8", 3, ["cereal", "coffee", "tea"],
            new DatasetReference(), NightlyRebalance: false, DateTimeOffset.UnixEpoch, BackbonePath: "models/shelves-resnet8/backbones/b.safetensors"), default);
        await UploadDatasetAsync("week2", Manifest("week2").Replace("\"architecture\": \"resnet8\",", ""));

        var outcome = await Handler().HandleAsync("week2", default);

        Assert.Equal(UploadOutcomeKind.Started, outcome.Kind);
        Assert.Equal(RunMode.Rebalance, outcome.Mode);
        var model = await _engine.Registry.GetAsync("shelves-resnet8", default);
        Assert.Equal(DateTimeOffset.UnixEpoch, model!.RegisteredUtc);
        Assert.Equal("models/shelves-resnet8/backbones/b.safetensors", model.BackbonePath);
        Assert.Equal("week2", model.Dataset.StoreName);
        await _engine.WaitForEndAsync(outcome.RunId!);

        await UploadDatasetAsync("week3", Manifest("week3").Replace("\"tea\"]", "\"juice\"]").Replace("\"architecture\": \"resnet8\",", "\"architecture\": \"resnet20\","));
        var mismatch = await Handler().HandleAsync("week3", default);
        // A registered model keeps its architecture, and a rebalance (the default once it has a backbone) keeps its classes.
        Assert.Equal(new[] { "architecture", "classes" }, mismatch.Errors.Keys.ToArray());
        Assert.Equal(["model 'shelves-resnet8' is registered as resnet8, not resnet20."], mismatch.Errors["architecture"]);
    }

    [Fact]
    public async Task DeletedManifest_IsNothingToDo()
    {
        var outcome = await Handler().HandleAsync("never-uploaded", default);

        Assert.Equal(UploadOutcomeKind.ManifestGone, outcome.Kind);
        Assert.Null(outcome.RunId);
    }
}

public sealed class DatasetUploadHandlerLocalTests : DatasetUploadHandlerTests
{
    protected override Task<TestEngine> StartEngineAsync() => TestEngine.StartLocalAsync();
}

[Collection(AzuriteCollection.Name)]
public sealed class DatasetUploadHandlerAzuriteTests(AzuriteFixture azurite) : DatasetUploadHandlerTests
{
    protected override Task<TestEngine> StartEngineAsync() => TestEngine.StartAzuriteAsync(azurite);
}
