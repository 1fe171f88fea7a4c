using System.Text.Json;
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
        RunRequestValidation.Validate(request);
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

    /// <summary>Polls the instance, handing each new custom status to <paramref name="onStatus"/>, until it ends.</summary>
    public static async Task<OrchestrationMetadata> FollowAsync(
        DurableTaskClient client, string runId, Action<RunStatus>? onStatus, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        string? lastStatus = null;
        while (true)
        {
            var instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, cancellationToken)
                ?? throw new InvalidOperationException($"Run '{runId}' does not exist.");
            if (instance.SerializedCustomStatus is { } status && status != lastStatus)
            {
                lastStatus = status;
                var parsed = JsonSerializer.Deserialize<RunStatus>(status, new JsonSerializerOptions(JsonSerializerDefaults.Web));
                if (parsed is not null) onStatus?.Invoke(parsed);
            }
            if (instance.RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed
                or OrchestrationRuntimeStatus.Terminated)
                return instance;
            await Task.Delay(pollInterval, cancellationToken);
        }
    }
}
