using System.Text.Json;
using FeatureAug.Functions.Requests;
using FeatureAug.Testing;
using FeatureAug.Workflow.Storage;
using Microsoft.Extensions.Configuration;

namespace FeatureAug.Functions.Tests;

public sealed class SettingsTests
{
    private static FunctionsAppSettings Read(Dictionary<string, string?> values) =>
        FunctionsAppSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    private static Dictionary<string, string?> BlobSettings() => new()
    {
        ["FeatureAug:Storage:Kind"] = "blob",
        ["FeatureAug:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
        ["FeatureAug:Device"] = "cuda",
        ["FeatureAug:Threads"] = "4",
    };

    [Fact]
    public void BlobSettings_GiveTheStoreAndTheRunDefaults()
    {
        var settings = Read(BlobSettings());

        Assert.Equal(ArtifactStoreKind.Blob, settings.Workflow.Store.Kind);
        Assert.Equal("", settings.Workflow.Store.ContainerPrefix);
        var store = Assert.IsType<BlobArtifactStore>(ArtifactStoreFactory.Create(settings.Workflow.Store));
        Assert.Equal("datasets", store.GetContainer("datasets").Name);
        Assert.Equal("cuda", settings.RunDefaults.Execution.Device);
        Assert.Equal(4, settings.RunDefaults.Execution.Threads);
    }

    [Theory]
    [InlineData("FeatureAug:Storage:ContainerPrefix", "dev-", "App setting FeatureAug__Storage__ContainerPrefix: is 'dev-', but the Functions app always uses the blob containers datasets, runs, models")]
    [InlineData("FeatureAug:Storage:Container", "featureaug", "App setting FeatureAug__Storage__Container: is 'featureaug', but the Functions app always uses")]
    [InlineData("FeatureAug:Storage:Kind", "s3", "App setting FeatureAug__Storage__Kind: 's3' is not local or blob.")]
    [InlineData("FeatureAug:Device", "tpu", "App setting FeatureAug__Device: 'tpu' is not auto, cpu or cuda.")]
    [InlineData("FeatureAug:Threads", "-1", "App setting FeatureAug__Threads: '-1' is not a whole number >= 0.")]
    [InlineData("FeatureAug:Storage:AccountUrl", "https://acct.blob.core.windows.net", "App setting FeatureAug__Storage__*: The blob artifact store got both ConnectionString and AccountUrl")]
    public void BadSettings_FailAtStart_NamingTheSetting(string key, string? value, string message)
    {
        var values = BlobSettings();
        values[key] = value;

        var exception = Assert.Throws<InvalidOperationException>(() => Read(values));

        Assert.StartsWith(message, exception.Message);
    }

    private static JsonElement RepositoryJson(string file)
    {
        string path = Path.Combine(FeatureAug.Testing.AzuriteFixture.FindRepositoryRoot(), file);
        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        return document.RootElement.Clone();
    }

    [Fact]
    public void LocalSettingsSample_HasEverySettingTheAppReads()
    {
        var values = RepositoryJson("local.settings.sample.json").GetProperty("Values");
        var names = values.EnumerateObject().Select(p => p.Name).ToHashSet();

        string[] required =
        [
            "FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "DurableTaskHubName", "NightlyRebalanceSchedule",
            "DatasetUploadConnection", "FeatureAug__Storage__Kind", "FeatureAug__Storage__ConnectionString",
            "FeatureAug__Storage__AccountUrl", "FeatureAug__Storage__ManagedIdentityClientId",
            "FeatureAug__Storage__LocalRoot", "FeatureAug__Device", "FeatureAug__Threads", "FeatureAug__WorkDirectory",
            "FeatureAug__MaxTrainingImages",
        ];
        Assert.Empty(required.Except(names));
        Assert.Equal("0 0 2 * * *", values.GetProperty("NightlyRebalanceSchedule").GetString());

        // The sample as it stands is a configuration the app accepts.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values.EnumerateObject()
            .Select(p => KeyValuePair.Create(p.Name.Replace("__", ":"), (string?)p.Value.GetString()))).Build();
        Assert.Equal(ArtifactStoreKind.Blob, FunctionsAppSettings.FromConfiguration(configuration).Workflow.Store.Kind);
    }

    [Fact]
    public void HostJson_SizesTheDurableHubForOneGpuPerReplica()
    {
        var host = RepositoryJson("host.json");
        var durable = host.GetProperty("extensions").GetProperty("durableTask");

        Assert.Equal("2.0", host.GetProperty("version").GetString());
        Assert.Equal("%DurableTaskHubName%", durable.GetProperty("hubName").GetString());
        Assert.Equal(1, durable.GetProperty("maxConcurrentActivityFunctions").GetInt32());
        Assert.True(TimeSpan.Parse(host.GetProperty("functionTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= TimeSpan.FromHours(1));
        Assert.True(host.GetProperty("logging").GetProperty("applicationInsights").GetProperty("samplingSettings").GetProperty("isEnabled").GetBoolean());
    }
}
