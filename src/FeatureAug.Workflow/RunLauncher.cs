using System.Text.Json;
using FeatureAug.Workflow.Inputs;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Workflow;

/// <summary>Starts runs idempotently and follows them to completion.</summary>
public static class RunLauncher
{
    /// <summary>
    /// Schedules the orchestration under the run id, unless an instance with that id already exists
    /// (then it is attached to, never started twice). Returns true when a new instance was created.
    /// </summary>
    public static async Task<bool> StartOrAttachAsync(DurableTaskClient client, RunRequest request, CancellationToken cancellationToken)
    {
        var existing = await client.GetInstanceAsync(request.RunId, getInputsAndOutputs: false, cancellationToken);
        if (existing is not null) return false;
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(
                FeatureAugOrchestrator.Name, request, new StartOrchestrationOptions(request.RunId), cancellationToken);
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Lost a race with another starter: the run exists once either way. Anything else is rethrown.
            if (await client.GetInstanceAsync(request.RunId, false, cancellationToken) is not null) return false;
            throw;
        }
    }

    /// <summary>
    /// Polls the run until it ends, handing every poll's instance to <paramref name="onPoll"/> (progress displays,
    /// status records), and returns its final state.
    /// </summary>
    public static async Task<OrchestrationMetadata> FollowAsync(
        DurableTaskClient client, string runId, Func<OrchestrationMetadata, CancellationToken, Task>? onPoll, TimeSpan pollInterval,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, cancellationToken)
                ?? throw new InvalidOperationException($"Run '{runId}' does not exist.");
            if (onPoll is not null) await onPoll(instance, cancellationToken);
            if (HasEnded(instance)) return instance;
            await Task.Delay(pollInterval, cancellationToken);
        }
    }

    /// <summary>Whether the run completed, failed or was terminated.</summary>
    public static bool HasEnded(OrchestrationMetadata instance) =>
        instance.RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;

    /// <summary>The orchestration's custom status (stage, progress, ETA), or null before the first one.</summary>
    public static RunStatus? StatusOf(OrchestrationMetadata instance) =>
        instance.SerializedCustomStatus is { } json ? JsonSerializer.Deserialize<RunStatus>(json, StatusJson) : null;

    private static readonly JsonSerializerOptions StatusJson = new(JsonSerializerDefaults.Web);
}
