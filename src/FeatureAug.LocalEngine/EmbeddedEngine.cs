using FeatureAug.Workflow;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FeatureAug.LocalEngine;

/// <summary>A running Durable Task engine with the FeatureAug tasks: its client and its worker's services.</summary>
public interface IWorkflowEngine : IAsyncDisposable
{
    DurableTaskClient Client { get; }

    IServiceProvider Services { get; }
}

/// <summary>
/// The Durable Task engine embedded in one process (Microsoft.DurableTask.InProcessTestHost): the same
/// orchestrator and activity registrations the Functions app uses, with an in-memory backend. Used by
/// the CLI and the tests so a whole run needs no cloud account.
/// </summary>
public sealed class EmbeddedEngine : IWorkflowEngine
{
    private readonly DurableTaskTestHost host;

    private EmbeddedEngine(DurableTaskTestHost host) => this.host = host;

    public DurableTaskClient Client => host.Client;

    /// <summary>The worker's services (artifact store, progress hub, ...).</summary>
    public IServiceProvider Services => host.Services;

    public static async Task<EmbeddedEngine> StartAsync(
        WorkflowServiceOptions options, int activityConcurrency = 2, ILoggerFactory? loggerFactory = null,
        Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default)
    {
        if (activityConcurrency < 1)
            throw new ArgumentOutOfRangeException(nameof(activityConcurrency), activityConcurrency, "Activity concurrency must be at least 1.");
        // The engine's gRPC sidecar logs every request at Information through the default host
        // configuration; a run's own output is what users want to read.
        if (Environment.GetEnvironmentVariable("Logging__LogLevel__Default") is null)
        {
            Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
            Environment.SetEnvironmentVariable("Logging__LogLevel__Microsoft.Hosting.Lifetime", "Warning");
        }
        // The host picks a random port in 30000-40000 without retrying; a free port chosen by the OS, and
        // a retry for the moment between choosing and binding, keep parallel engines from colliding.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var host = await DurableTaskTestHost.StartAsync(
                    registry => registry.AddFeatureAugTasks(),
                    new DurableTaskTestHostOptions
                    {
                        Port = FreeLoopbackPort(),
                        LoggerFactory = loggerFactory ?? LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Warning)),
                        ConfigureServices = services =>
                        {
                            services.AddFeatureAugWorkflow(options);
                            services.AddSingleton<IHostLifetime, EngineHostLifetime>();
                            services.ConfigureAll<DurableTaskWorkerOptions>(worker =>
                                worker.Concurrency.MaximumConcurrentActivityWorkItems = activityConcurrency);
                            configureServices?.Invoke(services);
                        },
                    },
                    cancellationToken);
                return new EmbeddedEngine(host);
            }
            catch (IOException ex) when (attempt < 3 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync() => host.DisposeAsync();
}
