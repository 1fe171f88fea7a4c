using FeatureAug.Testing;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Workflow.Tests.Pipeline;

/// <summary>Blob Storage (Azurite) goes away for several seconds mid-run: the run waits, retries and completes.</summary>
public sealed class StorageOutageTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("featureaug-outage").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task TheRunWaitsOutAStorageOutageAndCompletes()
    {
        var azurite = new AzuriteFixture { Persistent = true };
        await azurite.InitializeAsync();
        try
        {
            string data = TinyDataset.Write(Path.Combine(root, "data"));
            var storeOptions = new ArtifactStoreOptions { Kind = ArtifactStoreKind.Blob, ConnectionString = azurite.ConnectionString };
            var store = ArtifactStoreFactory.Create(storeOptions);
            var request = TinyDataset.Request("outage-1", data);
            request = request with { Training = request.Training with { Epochs = 4 } };
            var run = PipelineHarness.RunAsync(PipelineHarness.Options(storeOptions, Path.Combine(root, "work")), request);

            // Once Phase I has published its first checkpoint, storage disappears for 6 seconds.
            string first = ArtifactPath.Combine(new RunLayout("outage-1").Checkpoints, "epoch-0001.json");
            var deadline = DateTime.UtcNow + PipelineHarness.Timeout;
            while (!await store.ExistsAsync(first, default))
            {
                Assert.False(run.IsCompleted, "the run ended before its first checkpoint");
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint appeared");
                await Task.Delay(50);
            }
            await azurite.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(6));
            await azurite.RestartAsync();

            var (instance, executions) = await run;
            Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
            Assert.Equal(4, executions.ComputedCount("outage-1", nameof(TrainBackboneActivity)));
            Assert.True(await store.ExistsAsync(new RunLayout("outage-1").ReportJson, default));
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }
}
