using Azure.Storage.Queues;
using DurableTask.Core.Exceptions;
using FeatureAug.LocalEngine.DurableStorage;
using FeatureAug.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.DurableTask.Worker.Grpc.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FeatureAug.LocalEngine.Tests;

/// <summary>
/// The durable engine on Azurite: orchestrations run to completion, survive an engine restart without
/// re-running finished activities, and one instance id makes one orchestration. Each test has its own
/// task hub in the shared emulator.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DurableStorageEngineTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    private readonly AzuriteFixture azurite;
    private readonly TestOutputLoggerProvider logs;
    private readonly ILoggerFactory loggerFactory;
    private readonly ActivityLedger ledger = new();
    private readonly ActivityGate gate = new();
    private readonly string taskHub = "FaTest" + Guid.NewGuid().ToString("N")[..12];

    public DurableStorageEngineTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        this.azurite = azurite;
        logs = new TestOutputLoggerProvider(output);
        loggerFactory = logs.CreateFactory();
    }

    public void Dispose()
    {
        gate.Open(); // lets an activity still blocked in a stopped engine finish
        loggerFactory.Dispose();
    }

    [Fact]
    public async Task FanOutOfActivitiesCompletesWithEachActivityRunOnce()
    {
        await using var engine = await StartEngineAsync("only", Options() with { PartitionCount = 2 });

        string instanceId = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(FanOutOrchestrator), 6);
        var completed = await WaitForCompletionAsync(engine, instanceId);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, completed.RuntimeStatus);
        Assert.Equal(new[] { 0, 1, 4, 9, 16, 25 }, completed.ReadOutputAs<int[]>());
        Assert.Equal(["0", "1", "2", "3", "4", "5"],
            ledger.Executions.Where(e => e.Activity == nameof(SquareActivity)).Select(e => e.Input).Order());
        // The state lives in the storage account: the hub's control queues, one per partition.
        var queues = new QueueServiceClient(azurite.ConnectionString).GetQueuesAsync(prefix: taskHub.ToLowerInvariant());
        var names = new List<string>();
        await foreach (var queue in queues)
            names.Add(queue.Name);
        string lower = taskHub.ToLowerInvariant();
        Assert.Equal([$"{lower}-control-00", $"{lower}-control-01", $"{lower}-workitems"], names.Order());
    }

    [Fact]
    public async Task OrchestrationSurvivesEngineRestartWithoutRerunningFinishedActivities()
    {
        string instanceId;
        await using (var first = await StartEngineAsync("first"))
        {
            instanceId = await first.Client.ScheduleNewOrchestrationInstanceAsync(
                nameof(GatedSequenceOrchestrator), input: null, new StartOrchestrationOptions("restart-run"));
            // Steps a and b are done and the gated step is running when the engine goes away.
            await ledger.WaitForCountAsync(nameof(GatedStepActivity), 1, RunTimeout);
        }

        await using var second = await StartEngineAsync("second");
        // The gated step never finished, so its message comes back and the new engine runs it again.
        await ledger.WaitForCountAsync(nameof(GatedStepActivity), 2, RunTimeout);
        gate.Open();
        var completed = await WaitForCompletionAsync(second, instanceId);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, completed.RuntimeStatus);
        Assert.Equal(new[] { "a@first", "b@first", "gate@second", "c@second" }, completed.ReadOutputAs<string[]>());
        Assert.Equal(
            [
                new ActivityExecution("first", nameof(StepActivity), "a"),
                new ActivityExecution("first", nameof(StepActivity), "b"),
                new ActivityExecution("first", nameof(GatedStepActivity), "gate"),
                new ActivityExecution("second", nameof(GatedStepActivity), "gate"),
                new ActivityExecution("second", nameof(StepActivity), "c"),
            ],
            ledger.Executions);
    }

    [Fact]
    public async Task ResultArrivingAsTheEngineStopsIsPickedUpByTheNextEngineWithoutWaitingForLocksToExpire()
    {
        // 5-minute message locks (the Durable Functions default): a result stranded in the stopping
        // engine's memory would hold the run that long.
        var options = Options() with { MessageVisibilityTimeout = TimeSpan.FromMinutes(5) };
        string controlQueue = $"{taskHub.ToLowerInvariant()}-control-00";
        var queue = new QueueServiceClient(azurite.ConnectionString).GetQueueClient(controlQueue);
        string instanceId;
        await using (var first = await StartEngineAsync("first", options))
        {
            instanceId = await first.Client.ScheduleNewOrchestrationInstanceAsync(nameof(GatedSequenceOrchestrator));
            await ledger.WaitForCountAsync(nameof(GatedStepActivity), 1, RunTimeout);
            gate.Open();
            // The gated step's result is in the control queue: stop now, before the orchestration has used it.
            while ((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0)
                await Task.Delay(5);
        }

        await using var second = await StartEngineAsync("second", options);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var completed = await second.Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, timeout.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, completed.RuntimeStatus);
    }

    [Fact]
    public async Task StartingAnExistingInstanceIdAgainIsRejectedAndTheRunHappensOnce()
    {
        await using var engine = await StartEngineAsync("only");
        var start = new StartOrchestrationOptions("run-once");
        await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(GatedSequenceOrchestrator), input: null, start);
        await ledger.WaitForCountAsync(nameof(GatedStepActivity), 1, RunTimeout);

        // While it runs...
        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() =>
            engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(GatedSequenceOrchestrator), input: null, start));
        gate.Open();
        var completed = await WaitForCompletionAsync(engine, "run-once");
        // ...and after it completed: an existing instance is never replaced unless the caller asks.
        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() =>
            engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(GatedSequenceOrchestrator), input: null, start));

        var after = await engine.Client.GetInstanceAsync("run-once", getInputsAndOutputs: true);
        Assert.NotNull(after);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, after.RuntimeStatus);
        Assert.Equal(completed.CreatedAt, after.CreatedAt);
        Assert.Equal(new[] { "a@only", "b@only", "gate@only", "c@only" }, after.ReadOutputAs<string[]>());
        Assert.Equal(4, ledger.Executions.Count);
    }

    [Fact]
    public async Task ConcurrentStartsOfOneInstanceIdCreateOneOrchestration()
    {
        // Racing starts can all see "no such instance"; the provider then keeps the start message whose
        // execution id won the instance-table insert and discards the others.
        await using var engine = await StartEngineAsync("only");
        var start = new StartOrchestrationOptions("raced-run");

        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            try
            {
                return await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(FanOutOrchestrator), 3, start);
            }
            catch (OrchestrationAlreadyExistsException)
            {
                return null;
            }
        }));
        Assert.Contains("raced-run", attempts);
        var completed = await WaitForCompletionAsync(engine, "raced-run");
        Assert.Equal(new[] { 0, 1, 4 }, completed.ReadOutputAs<int[]>());

        // A second orchestration would run the fan-out again; give it time to show up.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(["0", "1", "2"], ledger.Executions.Select(e => e.Input).Order());
    }

    [Fact]
    public async Task ActivityThatFailsTransientlyIsRetriedOnDurableTimers()
    {
        await using var engine = await StartEngineAsync("only");

        string instanceId = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RetryingOrchestrator), 1);
        var completed = await WaitForCompletionAsync(engine, instanceId);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, completed.RuntimeStatus);
        Assert.Equal(2, completed.ReadOutputAs<int>()); // the second attempt succeeded
        Assert.Equal(2, ledger.Count(nameof(FlakyActivity)));
    }

    [Fact]
    public async Task ActivityLongerThanTheVisibilityTimeoutKeepsItsMessageAndRunsOnce()
    {
        var options = Options() with { MessageVisibilityTimeout = TimeSpan.FromSeconds(10) };
        await using var engine = await StartEngineAsync("only", options);

        string instanceId = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(SlowOrchestrator), 13_000);
        var completed = await WaitForCompletionAsync(engine, instanceId);

        Assert.Equal(13_000, completed.ReadOutputAs<int>());
        Assert.Equal(1, ledger.Count(nameof(SlowActivity)));
        // Without renewal the message would have become visible at 10 s, been received again, and the
        // first completion could not delete it: it would still be queued, to run a second time.
        var workItems = new QueueServiceClient(azurite.ConnectionString).GetQueueClient($"{taskHub.ToLowerInvariant()}-workitems");
        Assert.Equal(0, (await workItems.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task SidecarHealthPingsKeepAQuietWorkItemStreamConnected()
    {
        // The 1.28 worker drops a work-item stream that stays silent for its timeout (2 min; 2 s here)
        // and reconnects. A 5 s activity alone is 5 s of silence unless the sidecar pings (every 0.5 s here).
        await using var engine = await DurableStorageEngine.StartAsync(
            Options(), DurableTestTasks.Register,
            services =>
            {
                RegisterTestServices(services, "only");
                services.ConfigureAll<GrpcDurableTaskWorkerOptions>(worker => worker.SetSilentDisconnectTimeout(TimeSpan.FromSeconds(2)));
            },
            loggerFactory, healthPingInterval: TimeSpan.FromMilliseconds(500), CancellationToken.None);

        string instanceId = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(SlowOrchestrator), 5_000);
        var completed = await WaitForCompletionAsync(engine, instanceId);

        Assert.Equal(5_000, completed.ReadOutputAs<int>());
        Assert.DoesNotContain(logs.Lines, line => line.Contains("stopped receiving traffic", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongAccountKeyFailsStartWithTheTaskHubInTheMessage()
    {
        // Azurite's endpoints, signed with a key that is not the account's: every request is refused (403).
        string wrongKey = Convert.ToBase64String(new byte[64]);
        string connectionString = string.Join(';', azurite.ConnectionString.Split(';')
            .Select(part => part.StartsWith("AccountKey=", StringComparison.Ordinal) ? "AccountKey=" + wrongKey : part));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            StartEngineAsync("only", Options() with { ConnectionString = connectionString }));
        Assert.StartsWith($"Could not open task hub '{taskHub}' in Azure Storage (connection string): ", error.Message);
        Assert.Contains("failed to authenticate", error.Message); // the storage service's own reason, not just a wrapper's
        Assert.NotNull(error.InnerException);
    }

    private DurableStorageEngineOptions Options() => new()
    {
        ConnectionString = azurite.ConnectionString,
        TaskHubName = taskHub,
        PartitionCount = 1,
        MaxQueuePollingInterval = TimeSpan.FromMilliseconds(500),
    };

    private Task<DurableStorageEngine> StartEngineAsync(string label, DurableStorageEngineOptions? options = null) =>
        DurableStorageEngine.StartAsync(
            options ?? Options(),
            DurableTestTasks.Register,
            services => RegisterTestServices(services, label),
            loggerFactory);

    private void RegisterTestServices(IServiceCollection services, string label)
    {
        services.AddSingleton(ledger);
        services.AddSingleton(gate);
        services.AddSingleton(new EngineLabel(label));
    }

    private static async Task<OrchestrationMetadata> WaitForCompletionAsync(DurableStorageEngine engine, string instanceId)
    {
        using var timeout = new CancellationTokenSource(RunTimeout);
        return await engine.Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, timeout.Token);
    }
}
