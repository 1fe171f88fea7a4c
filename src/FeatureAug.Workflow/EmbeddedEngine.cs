using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Workflow;

/// <summary>
/// The Durable Task engine embedded in one process (Microsoft.DurableTask.InProcessTestHost): the same
/// orchestrator and activity registrations the Functions app uses, with an in-memory backend. Used by
/// the CLI and the tests so a whole run needs no cloud account.
/// </summary>
public sealed class EmbeddedEngine : IAsyncDisposable
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
        var host = await DurableTaskTestHost.StartAsync(
            registry => registry.AddFeatureAugTasks(),
            new DurableTaskTestHostOptions
            {
                LoggerFactory = loggerFactory ?? LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Warning)),
                ConfigureServices = services =>
                {
                    services.AddFeatureAugWorkflow(options);
                    services.ConfigureAll<DurableTaskWorkerOptions>(worker =>
                        worker.Concurrency.MaximumConcurrentActivityWorkItems = activityConcurrency);
                    configureServices?.Invoke(services);
                },
            },
            cancellationToken);
        return new EmbeddedEngine(host);
    }

    public ValueTask DisposeAsync() => host.DisposeAsync();
}
