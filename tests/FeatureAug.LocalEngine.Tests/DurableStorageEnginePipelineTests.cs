using FeatureAug.LocalEngine.DurableStorage;
using FeatureAug.Testing;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FeatureAug.LocalEngine.Tests;

/// <summary>
/// The real FeatureAug orchestration and activities, unchanged, on the durable engine (Azurite, local
/// store). It compares training results with a reference run, so it runs alone like the other
/// bit-exact tests (torch's thread count is process-wide), with an Azurite of its own.
/// </summary>
[Collection(TestCollections.BitExact)]
public sealed class DurableStorageEnginePipelineTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture azurite;
    private readonly ILoggerFactory loggerFactory;
    private readonly string root = Directory.CreateTempSubdirectory("featureaug-durable-pipeline").FullName;
    private readonly string dataDir;

    public DurableStorageEnginePipelineTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        this.azurite = azurite;
        loggerFactory = TestOutputLoggerProvider.CreateFactory(output);
        dataDir = TinyDataset.Write(Path.Combine(root, "data"));
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task RunStoppedMidwayResumesOnANewEngineAndMatchesAnUninterruptedRun()
    {
        var request = TinyDataset.Request("durable-1", dataDir);
        var (reference, _) = await PipelineHarness.RunAsync(WorkflowOptions("reference"), request);
        Assert.True(reference.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(reference));

        var workflow = WorkflowOptions("durable");
        var engineOptions = new DurableStorageEngineOptions
        {
            ConnectionString = azurite.ConnectionString,
            TaskHubName = "FaPipeline" + Guid.NewGuid().ToString("N")[..12],
            PartitionCount = 1,
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(500),
        };
        using var timeout = new CancellationTokenSource(PipelineHarness.Timeout);

        await using (var first = await StartAsync(engineOptions, workflow, timeout.Token))
        {
            Assert.True(await RunLauncher.StartOrAttachAsync(first.Client, request, timeout.Token));
            var log = first.Services.GetRequiredService<ActivityExecutionLog>();
            while (log.ComputedCount(request.RunId, nameof(TrainBackboneActivity)) < 1)
                await Task.Delay(50, timeout.Token);
            var running = await first.Client.GetInstanceAsync(request.RunId, timeout.Token);
            Assert.Equal(OrchestrationRuntimeStatus.Running, running?.RuntimeStatus);
        }

        await using var second = await StartAsync(engineOptions, workflow, timeout.Token);
        Assert.False(await RunLauncher.StartOrAttachAsync(second.Client, request, timeout.Token)); // attaches, never starts twice
        var resumed = await RunLauncher.FollowAsync(second.Client, request.RunId, null, TimeSpan.FromMilliseconds(200), timeout.Token);

        Assert.True(resumed.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(resumed));
        // Epoch chunk 1 finished on the first engine; the second computes at most chunk 2.
        var secondLog = second.Services.GetRequiredService<ActivityExecutionLog>();
        Assert.InRange(secondLog.ComputedCount(request.RunId, nameof(TrainBackboneActivity)), 0, 1);
        Assert.Equal(reference.ReadOutputAs<RunResult>()!.Top1, resumed.ReadOutputAs<RunResult>()!.Top1);
    }

    private WorkflowServiceOptions WorkflowOptions(string name) =>
        PipelineHarness.Options(new ArtifactStoreOptions { Kind = ArtifactStoreKind.Local, LocalRoot = Path.Combine(root, name, "store") },
            Path.Combine(root, name, "work"));

    private Task<DurableStorageEngine> StartAsync(DurableStorageEngineOptions options, WorkflowServiceOptions workflow, CancellationToken cancellationToken) =>
        DurableStorageEngine.StartAsync(options, registry => registry.AddFeatureAugTasks(),
            services => services.AddFeatureAugWorkflow(workflow), loggerFactory, cancellationToken);
}
