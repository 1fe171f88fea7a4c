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

    [Fact]
    public async Task AnActivityCancelledByShutdownRunsAgainOnTheNextEngineFromItsKeptEpochs()
    {
        // All of Phase I in one activity, minutes of work: it is running whenever the first engine stops.
        const int epochs = 500;
        var request = TinyDataset.Request("durable-stop", dataDir);
        request = request with { Training = request.Training with { Epochs = epochs }, Execution = request.Execution with { EpochsPerActivity = epochs } };
        var workflow = WorkflowOptions("stop");
        var store = new LocalArtifactStore(workflow.Store.LocalRoot!);
        var engineOptions = new DurableStorageEngineOptions
        {
            ConnectionString = azurite.ConnectionString,
            TaskHubName = "FaStop" + Guid.NewGuid().ToString("N")[..12],
            PartitionCount = 1,
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(500),
        };
        using var timeout = new CancellationTokenSource(PipelineHarness.Timeout);
        const string train = nameof(TrainBackboneActivity);

        var first = await StartAsync(engineOptions, workflow, timeout.Token);
        var log = first.Services.GetRequiredService<ActivityExecutionLog>();
        await using (first) // disposing hands the activity back, then the host's shutdown cancels its body
        {
            var secondEpoch = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            first.Services.GetRequiredService<RunProgressHub>().Updated += p =>
            {
                if (p.Stage == "TrainBackbone" && p.Detail.StartsWith($"epoch 2/{epochs} ", StringComparison.Ordinal)) secondEpoch.TrySetResult();
            };
            Assert.True(await RunLauncher.StartOrAttachAsync(first.Client, request, timeout.Token));
            await secondEpoch.Task.WaitAsync(timeout.Token);
        }
        // The body has ended (the host waits for it) without computing its output.
        Assert.Single(log.Intervals(request.RunId, train));
        Assert.Equal(0, log.ComputedCount(request.RunId, train));
        var kept = (await store.ListAsync(new RunLayout(request.RunId).Checkpoints, timeout.Token)).Count(p => p.EndsWith(".json", StringComparison.Ordinal));
        Assert.InRange(kept, 1, epochs - 1);

        await using var second = await StartAsync(engineOptions, workflow, timeout.Token);
        var resumed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        second.Services.GetRequiredService<RunProgressHub>().Updated += p => { if (p.Stage == "TrainBackbone") resumed.TrySetResult(p.Detail); };
        Assert.False(await RunLauncher.StartOrAttachAsync(second.Client, request, timeout.Token)); // the run survived the stop
        // The same activity runs again (the cancellation did not fail the run) and resumes after the kept epochs.
        Assert.StartsWith($"epoch {kept + 1}/{epochs} step 1/", await resumed.Task.WaitAsync(timeout.Token));
        var running = await second.Client.GetInstanceAsync(request.RunId, timeout.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Running, running?.RuntimeStatus);
    }

    private WorkflowServiceOptions WorkflowOptions(string name) =>
        PipelineHarness.Options(new ArtifactStoreOptions { Kind = ArtifactStoreKind.Local, LocalRoot = Path.Combine(root, name, "store") },
            Path.Combine(root, name, "work"));

    private Task<DurableStorageEngine> StartAsync(DurableStorageEngineOptions options, WorkflowServiceOptions workflow, CancellationToken cancellationToken) =>
        DurableStorageEngine.StartAsync(options, registry => registry.AddFeatureAugTasks(),
            services => services.AddFeatureAugWorkflow(workflow), loggerFactory, cancellationToken);
}
