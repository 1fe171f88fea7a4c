using FeatureAug.LocalEngine;
using FeatureAug.LocalEngine.DurableStorage;
using FeatureAug.Workflow;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Cli;

/// <summary>Which Durable engine runs the orchestration: in memory, or with its state in Azure Storage.</summary>
internal sealed record EngineChoice(bool Durable, DurableStorageEngineOptions? StorageOptions, int ActivityConcurrency)
{
    public static EngineChoice From(string engine, string? connection, string? accountUrl, string taskHub, int concurrency, int lockSeconds)
    {
        if (lockSeconds is < 10 or > 600) throw new ArgumentException($"--engine-lock-seconds must lie in 10..600, got {lockSeconds}.");
        if (concurrency < 1) throw new ArgumentException($"--activity-concurrency must be at least 1, got {concurrency}.");
        switch (engine)
        {
            case "memory":
                return new EngineChoice(false, null, concurrency);
            case "azure-storage":
                DurableStorageEngineOptions.ValidateTaskHubName(taskHub);
                string? accountName = accountUrl is null ? null : new Uri(accountUrl).Host.Split('.')[0];
                if (connection is null && accountName is null)
                    throw new ArgumentException("--engine azure-storage needs --engine-connection, --connection or --account-url.");
                var options = new DurableStorageEngineOptions
                {
                    ConnectionString = connection,
                    AccountName = connection is null ? accountName : null,
                    TaskHubName = taskHub,
                    ActivityConcurrency = concurrency,
                    MessageVisibilityTimeout = TimeSpan.FromSeconds(lockSeconds),
                    PartitionLeaseInterval = TimeSpan.FromSeconds(Math.Clamp(lockSeconds * 3 / 5, 6, 120)),
                };
                options.Validate();
                return new EngineChoice(true, options, concurrency);
            default:
                throw new ArgumentException($"--engine must be memory or azure-storage, not '{engine}'.");
        }
    }

    public async Task<IWorkflowEngine> StartAsync(WorkflowServiceOptions services, CancellationToken cancellationToken) =>
        Durable
            ? await DurableStorageEngine.StartAsync(StorageOptions!, r => r.AddFeatureAugTasks(), s => s.AddFeatureAugWorkflow(services),
                LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)), cancellationToken)
            : await EmbeddedEngine.StartAsync(services, ActivityConcurrency, cancellationToken: cancellationToken);
}

