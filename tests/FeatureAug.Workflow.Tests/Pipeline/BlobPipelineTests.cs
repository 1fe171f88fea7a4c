using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Testing;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Workflow.Tests.Pipeline;

/// <summary>The whole orchestration with every artifact in Blob Storage (Azurite).</summary>
[Collection(AzuriteCollection.Name)]
public sealed class BlobPipelineTests(AzuriteFixture azurite) : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("featureaug-blob-pipeline").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task FullRunOnBlobStorageCompletesAndStoresTheReport()
    {
        string dataDir = TinyDataset.Write(Path.Combine(root, "data"));
        var storeOptions = new ArtifactStoreOptions
        {
            Kind = ArtifactStoreKind.Blob, ConnectionString = azurite.ConnectionString, ContainerPrefix = "pipeline-" + Guid.NewGuid().ToString("N")[..8] + "-",
        };
        var (instance, _) = await PipelineHarness.RunAsync(PipelineHarness.Options(storeOptions, Path.Combine(root, "work")),
            TinyDataset.Request("blob-1", dataDir));

        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
        var store = ArtifactStoreFactory.Create(storeOptions);
        var report = await store.ReadJsonAsync<RunReport>(instance.ReadOutputAs<RunResult>()!.ReportPath, default);
        Assert.Equal(HeadMethods.Keys.Count, report.Methods.Count);
        var stored = await store.ListAsync(ArtifactPath.Run("blob-1"), default);
        Assert.Contains(stored, p => p.EndsWith("/checkpoints/epoch-0002.model.safetensors", StringComparison.Ordinal));
        Assert.Contains(stored, p => p.EndsWith("/fused/class-0003.safetensors", StringComparison.Ordinal));
        Assert.Contains(stored, p => p.EndsWith("/model/model.safetensors", StringComparison.Ordinal));
    }
}
