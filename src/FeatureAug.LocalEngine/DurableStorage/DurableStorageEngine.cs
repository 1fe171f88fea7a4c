using System.Net;
using Azure.Identity;
using DurableTask.AzureStorage;
using DurableTask.Core;
using FeatureAug.Workflow;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using P = Microsoft.DurableTask.Protobuf;

namespace FeatureAug.LocalEngine.DurableStorage;

/// <summary>
/// The Durable Task engine with its state in Azure Storage (or Azurite): the Durable Task Framework's
/// Azure Storage provider, the one Durable Functions uses by default, served over the Durable Task gRPC
/// protocol by the sidecar that ships in Microsoft.DurableTask.InProcessTestHost (TaskHubGrpcServer), and
/// reached by the ordinary gRPC DurableTask worker and client. Orchestrators and activities are the same
/// classes the in-memory engine and the Functions app run. A run survives the process: a new engine on
/// the same task hub carries on where the last one stopped.
/// </summary>
/// <remarks>
/// Everything runs in this process: the provider, a loopback-only gRPC sidecar on a free port, and the
/// worker host with the caller's services. Disposing does not wait for running activities: their
/// messages are abandoned, so the next engine on the hub runs them again (at-least-once, like Durable
/// Functions). An activity whose result reached the task hub is never run again: the result is in the
/// orchestration history. After a crash rather than a dispose, the next engine waits for the dead one's
/// partition leases (<see cref="DurableStorageEngineOptions.PartitionLeaseInterval"/>) and message locks
/// (<see cref="DurableStorageEngineOptions.MessageVisibilityTimeout"/>) to expire.
/// </remarks>
public sealed class DurableStorageEngine : IWorkflowEngine
{
    private static readonly TimeSpan WorkerShutdownTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SidecarShutdownTimeout = TimeSpan.FromSeconds(10);
    // A quarter of the 1.28 worker's 2-minute silent-disconnect window.
    private static readonly TimeSpan HealthPingInterval = TimeSpan.FromSeconds(30);
    // At shutdown, orchestration episodes under way (or whose messages just arrived) may finish here.
    private static readonly TimeSpan OrchestrationQuietPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan OrchestrationDrainLimit = TimeSpan.FromSeconds(10);

    private readonly AzureStorageOrchestrationService storage;
    private readonly RenewingOrchestrationService backend;
    private readonly WebApplication sidecar;
    private readonly GrpcChannel channel;
    private readonly IHost worker;
    private readonly ILogger logger;
    private int disposed;

    private DurableStorageEngine(
        AzureStorageOrchestrationService storage, RenewingOrchestrationService backend, WebApplication sidecar,
        GrpcChannel channel, IHost worker, string taskHubName, ILogger logger)
    {
        this.storage = storage;
        this.backend = backend;
        this.sidecar = sidecar;
        this.channel = channel;
        this.worker = worker;
        this.logger = logger;
        TaskHubName = taskHubName;
        Client = worker.Services.GetRequiredService<DurableTaskClient>();
    }

    /// <summary>Client for scheduling, querying and waiting on orchestrations in this task hub.</summary>
    public DurableTaskClient Client { get; }

    /// <summary>The worker's services: the caller's registrations (artifact store, progress hub, ...).</summary>
    public IServiceProvider Services => worker.Services;

    /// <summary>The task hub this engine serves.</summary>
    public string TaskHubName { get; }

    /// <summary>
    /// Creates the task hub if it does not exist, starts the provider, the sidecar and the worker, and
    /// returns once the client can be used. A bad connection string, an unreachable account or missing
    /// permissions fail here, not later in the background.
    /// </summary>
    /// <param name="options">Storage account, task hub and concurrency; validated first.</param>
    /// <param name="registerTasks">Registers the orchestrators and activities (the same call the other engines use).</param>
    /// <param name="configureServices">Adds the services the orchestrators and activities depend on.</param>
    /// <param name="loggerFactory">Receives the engine's, the provider's and the worker's logs; null logs nothing.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    public static Task<DurableStorageEngine> StartAsync(
        DurableStorageEngineOptions options,
        Action<DurableTaskRegistry> registerTasks,
        Action<IServiceCollection>? configureServices = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default) =>
        StartAsync(options, registerTasks, configureServices, loggerFactory, HealthPingInterval, cancellationToken);

    /// <summary><see cref="StartAsync(DurableStorageEngineOptions, Action{DurableTaskRegistry}, Action{IServiceCollection}?, ILoggerFactory?, CancellationToken)"/> with the sidecar's ping interval chosen (tests).</summary>
    internal static async Task<DurableStorageEngine> StartAsync(
        DurableStorageEngineOptions options,
        Action<DurableTaskRegistry> registerTasks,
        Action<IServiceCollection>? configureServices,
        ILoggerFactory? loggerFactory,
        TimeSpan healthPingInterval,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registerTasks);
        options.Validate();

        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<DurableStorageEngine>();

        AzureStorageOrchestrationService? storage = null;
        WebApplication? sidecar = null;
        GrpcChannel? channel = null;
        IHost? worker = null;
        try
        {
            storage = new AzureStorageOrchestrationService(CreateSettings(options, loggerFactory));
            try
            {
                await storage.CreateIfNotExistsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                await storage.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw new InvalidOperationException(
                    $"Could not open task hub '{options.TaskHubName}' in Azure Storage " +
                    $"({(options.AccountName is null ? "connection string" : $"account '{options.AccountName}'")}): {MessageChain(exception)}",
                    exception);
            }

            var backend = new RenewingOrchestrationService(storage, logger);
            sidecar = await StartSidecarAsync(backend, new NonReplacingOrchestrationServiceClient(storage), loggerFactory,
                healthPingInterval, cancellationToken).ConfigureAwait(false);
            channel = GrpcChannel.ForAddress(SidecarAddress(sidecar));
            worker = await StartWorkerAsync(options, channel, registerTasks, configureServices, loggerFactory, cancellationToken)
                .ConfigureAwait(false);

            logger.LogInformation("Durable storage engine started on task hub {TaskHub} (sidecar {Address}).",
                options.TaskHubName, SidecarAddress(sidecar));
            return new DurableStorageEngine(storage, backend, sidecar, channel, worker, options.TaskHubName, logger);
        }
        catch
        {
            worker?.Dispose();
            channel?.Dispose();
            if (sidecar is not null)
                await sidecar.DisposeAsync().ConfigureAwait(false);
            if (storage is not null)
            {
                try
                {
                    await storage.StopAsync(isForced: true).ConfigureAwait(false);
                }
                catch (Exception stopException)
                {
                    logger.LogDebug(stopException, "Stopping the provider after a failed start also failed.");
                }
                storage.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// Hands running activities back to the task hub (abandoned messages become visible to the next
    /// engine after a back-off of a few seconds), lets orchestration episodes under way finish (up to
    /// 10 s), stops listening and releases the partition leases so another engine can take the hub at
    /// once, then stops the worker and the sidecar.
    /// </summary>
    /// <remarks>
    /// The order matters: the provider prefetches control-queue messages into memory, and a message
    /// fetched when nothing will process it any more stays locked for
    /// <see cref="DurableStorageEngineOptions.MessageVisibilityTimeout"/>. So the worker keeps processing
    /// orchestration messages until they go quiet, and the provider stops listening right after intake closes.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
            return;

        await ReleaseSidecarWaitsAsync(await backend.CloseActivityIntakeAsync().ConfigureAwait(false)).ConfigureAwait(false);
        await backend.WaitForOrchestrationsToGoQuietAsync(OrchestrationQuietPeriod, OrchestrationDrainLimit).ConfigureAwait(false);
        await ReleaseSidecarWaitsAsync(await backend.CloseOrchestrationIntakeAsync().ConfigureAwait(false)).ConfigureAwait(false);
        await IgnoreFailureAsync(() => storage.StopAsync(isForced: true), "stopping the Azure Storage provider").ConfigureAwait(false);

        using (var timeout = new CancellationTokenSource(WorkerShutdownTimeout))
            await IgnoreFailureAsync(() => worker.StopAsync(timeout.Token), "stopping the worker").ConfigureAwait(false);
        using (var timeout = new CancellationTokenSource(SidecarShutdownTimeout))
            await IgnoreFailureAsync(() => sidecar.StopAsync(timeout.Token), "stopping the sidecar").ConfigureAwait(false);

        channel.Dispose();
        await sidecar.DisposeAsync().ConfigureAwait(false);
        worker.Dispose();
        storage.Dispose();
    }

    private static AzureStorageOrchestrationServiceSettings CreateSettings(DurableStorageEngineOptions options, ILoggerFactory loggerFactory) => new()
    {
        TaskHubName = options.TaskHubName,
        StorageAccountClientProvider = options.ConnectionString is { } connectionString
            ? new StorageAccountClientProvider(connectionString)
            : new StorageAccountClientProvider(options.AccountName!, options.Credential ?? new DefaultAzureCredential()),
        PartitionCount = options.PartitionCount,
        MaxConcurrentTaskActivityWorkItems = options.ActivityConcurrency,
        ControlQueueVisibilityTimeout = options.MessageVisibilityTimeout,
        WorkItemQueueVisibilityTimeout = options.MessageVisibilityTimeout,
        MaxQueuePollingInterval = options.MaxQueuePollingInterval,
        LeaseInterval = options.PartitionLeaseInterval,
        LeaseRenewInterval = options.PartitionLeaseInterval / 3,
        LeaseAcquireInterval = options.PartitionLeaseInterval / 3,
        // Unique per engine: two engines (or a restarted process) never mistake each other's partition leases for their own.
        WorkerId = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}",
        // A duplicate start surfaces to the caller as OrchestrationAlreadyExistsException instead of vanishing.
        ThrowExceptionOnInvalidDedupeStatus = true,
        LoggerFactory = loggerFactory,
    };

    private static async Task<WebApplication> StartSidecarAsync(
        IOrchestrationService backend, IOrchestrationServiceClient client, ILoggerFactory loggerFactory,
        TimeSpan healthPingInterval, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "FeatureAug.DurableSidecar" });
        // Loopback only, any free port, cleartext HTTP/2 (gRPC without TLS inside one process).
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddLogging();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.AddRouting();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(backend);
        builder.Services.AddSingleton(client);
        builder.Services.AddSingleton(new SidecarHealthPing(healthPingInterval));
        builder.Services.AddSingleton<IHostLifetime, EngineHostLifetime>();
        builder.Services.AddSingleton<PingingTaskHubGrpcServer>();
        var app = builder.Build();
        app.UseRouting();
        app.MapGrpcService<PingingTaskHubGrpcServer>();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return app;
    }

    private static Uri SidecarAddress(WebApplication sidecar) =>
        new(sidecar.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

    private static async Task<IHost> StartWorkerAsync(
        DurableStorageEngineOptions options, GrpcChannel channel, Action<DurableTaskRegistry> registerTasks,
        Action<IServiceCollection>? configureServices, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.AddSingleton<IHostLifetime, EngineHostLifetime>();
        // The caller's services first, as in the in-memory engine, so tasks resolve them.
        configureServices?.Invoke(builder.Services);
        builder.Services.AddDurableTaskWorker(worker =>
        {
            worker.UseGrpc(channel);
            worker.AddTasks(registerTasks);
        });
        builder.Services.ConfigureAll<DurableTaskWorkerOptions>(worker =>
            worker.Concurrency.MaximumConcurrentActivityWorkItems = options.ActivityConcurrency);
        builder.Services.AddDurableTaskClient(client =>
        {
            client.UseGrpc(channel);
            client.RegisterDirectly();
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    /// <summary>
    /// The sidecar waits, per item it handed to the worker, for the worker's result, and its dispatchers
    /// cannot stop while any wait is open. For items detached at shutdown no result will come, so report
    /// a failure for each over the protocol itself; the wrapper drops it (the message is already back in
    /// the queue), and the sidecar's dispatchers drain.
    /// </summary>
    private async Task ReleaseSidecarWaitsAsync(IReadOnlyList<DetachedWorkItem> detached)
    {
        var sidecarClient = new P.TaskHubSidecarService.TaskHubSidecarServiceClient(channel);
        foreach (var item in detached)
        {
            try
            {
                switch (item)
                {
                    case DetachedActivity activity:
                        await sidecarClient.CompleteActivityTaskAsync(new P.ActivityResponse
                        {
                            InstanceId = activity.InstanceId,
                            TaskId = activity.TaskId,
                            FailureDetails = new P.TaskFailureDetails
                            {
                                ErrorType = "EngineStopped",
                                ErrorMessage = "The engine stopped before the activity finished; it runs again on the next engine.",
                            },
                        }).ConfigureAwait(false);
                        break;
                    case DetachedOrchestration orchestration:
                        await sidecarClient.CompleteOrchestratorTaskAsync(new P.OrchestratorResponse { InstanceId = orchestration.InstanceId })
                            .ConfigureAwait(false);
                        break;
                }
            }
            catch (RpcException exception) when (exception.StatusCode == StatusCode.NotFound)
            {
                // The sidecar was not waiting for this item (it had not been sent to the worker yet).
            }
            catch (Exception exception)
            {
                logger.LogDebug(exception, "Releasing the sidecar's wait for {WorkItem} failed.", item);
            }
        }
    }

    /// <summary>The provider wraps storage errors in a generic one; the cause (e.g. "failed to authenticate") is inside.</summary>
    private static string MessageChain(Exception exception)
    {
        var messages = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            string firstLine = current.Message.Split('\n', 2)[0].Trim();
            if (firstLine.Length > 0 && !messages.Contains(firstLine))
                messages.Add(firstLine);
        }
        return string.Join(" <- ", messages);
    }

    private async Task IgnoreFailureAsync(Func<Task> step, string what)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Durable storage engine: {Step} failed during shutdown.", what);
        }
    }
}
