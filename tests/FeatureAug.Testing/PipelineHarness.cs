using FeatureAug.LocalEngine;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FeatureAug.Testing;

/// <summary>Runs orchestrations to completion on the embedded engine against a given store.</summary>
public static class PipelineHarness
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    public static WorkflowServiceOptions Options(ArtifactStoreOptions store, string workDirectory) =>
        new() { Store = store, WorkDirectory = workDirectory };

    public static async Task<(OrchestrationMetadata Instance, ActivityExecutionLog Executions)> RunAsync(
        WorkflowServiceOptions options, RunRequest request, int concurrency = 2)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using var engine = await EmbeddedEngine.StartAsync(options, concurrency, cancellationToken: timeout.Token);
        await RunLauncher.StartOrAttachAsync(engine.Client, request, timeout.Token);
        var instance = await RunLauncher.FollowAsync(engine.Client, request.RunId, null, TimeSpan.FromMilliseconds(200), timeout.Token);
        return (instance, engine.Services.GetRequiredService<ActivityExecutionLog>());
    }

    public static string Failure(OrchestrationMetadata instance)
    {
        var messages = new List<string>();
        for (var f = instance.FailureDetails; f is not null; f = f.InnerFailure) messages.Add($"{f.ErrorType}: {f.ErrorMessage}");
        return string.Join(" <- ", messages);
    }
}
