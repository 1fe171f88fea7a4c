using System.Collections.Concurrent;
using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.Extensions.Logging;

namespace FeatureAug.LocalEngine.DurableStorage;

/// <summary>A work item this process gave up at shutdown; the sidecar may still be waiting for its result.</summary>
internal abstract record DetachedWorkItem(string InstanceId);

internal sealed record DetachedActivity(string InstanceId, int TaskId) : DetachedWorkItem(InstanceId);

internal sealed record DetachedOrchestration(string InstanceId) : DetachedWorkItem(InstanceId);

/// <summary>
/// The storage provider as TaskHubGrpcServer's dispatchers see it. Those dispatchers (unlike
/// DurableTask.Core's) never renew a work item's lock, so a message whose work outlasts the provider's
/// visibility timeout would reappear and run twice; and when the worker goes away mid-item they never
/// finish the item. This wrapper renews each locked item in the background until it is completed or
/// abandoned, and at shutdown closes intake (activities first, orchestrations once their episodes have
/// gone quiet) and abandons what is still in flight, so another process can take it at once.
/// Start and stop belong to the engine (the sidecar would call them from fire-and-forget callbacks, where
/// a storage error could not reach anyone), so <see cref="StartAsync()"/> and <see cref="StopAsync()"/> do nothing.
/// </summary>
internal sealed class RenewingOrchestrationService : IOrchestrationService
{
    private static readonly TimeSpan ShortestRenewalPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PauseAfterFailedRenewal = TimeSpan.FromSeconds(5);

    private readonly IOrchestrationService inner;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<object, TrackedWorkItem> inFlight = new(ReferenceEqualityComparer.Instance);
    private readonly Lock admission = new(); // makes "intake open, so track it" atomic with closing intake
    private bool activityIntakeClosed;
    private bool orchestrationIntakeClosed;
    private long lastOrchestrationChangeTicks;

    public RenewingOrchestrationService(IOrchestrationService inner, ILogger logger)
    {
        this.inner = inner;
        this.logger = logger;
    }

    /// <summary>
    /// Stops taking activities and abandons those in flight (the provider makes an abandoned message
    /// visible again after a short back-off). Completions that arrive later for them are dropped: their
    /// messages are back in the queue. Returns the items whose results the sidecar still awaits.
    /// </summary>
    public Task<IReadOnlyList<DetachedWorkItem>> CloseActivityIntakeAsync() => CloseIntakeAsync(activities: true);

    /// <summary>As <see cref="CloseActivityIntakeAsync"/>, for orchestration episodes (their sessions are released too).</summary>
    public Task<IReadOnlyList<DetachedWorkItem>> CloseOrchestrationIntakeAsync() => CloseIntakeAsync(activities: false);

    /// <summary>
    /// Waits until no orchestration episode is in flight and none has started or ended for
    /// <paramref name="quietPeriod"/> (so messages that have just arrived are processed here rather than
    /// left in the provider's memory), or until <paramref name="limit"/> has passed.
    /// </summary>
    public async Task WaitForOrchestrationsToGoQuietAsync(TimeSpan quietPeriod, TimeSpan limit)
    {
        NoteOrchestrationChange();
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            bool busy = inFlight.Keys.Any(workItem => workItem is TaskOrchestrationWorkItem);
            var quietFor = DateTime.UtcNow - new DateTime(Interlocked.Read(ref lastOrchestrationChangeTicks), DateTimeKind.Utc);
            if (!busy && quietFor >= quietPeriod)
                return;
            await Task.Delay(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<DetachedWorkItem>> CloseIntakeAsync(bool activities)
    {
        KeyValuePair<object, TrackedWorkItem>[] snapshot;
        lock (admission)
        {
            if (activities)
                activityIntakeClosed = true;
            else
                orchestrationIntakeClosed = true;
            snapshot = inFlight.Where(entry => entry.Key is TaskActivityWorkItem == activities).ToArray();
        }
        var awaited = new List<DetachedWorkItem>();
        foreach (var (workItem, tracked) in snapshot)
        {
            await tracked.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                var before = tracked.State;
                if (before is WorkItemState.Done or WorkItemState.Detached)
                    continue;
                tracked.State = WorkItemState.Detached;
                inFlight.TryRemove(workItem, out _);
                await tracked.StopRenewalAsync().ConfigureAwait(false);
                switch (workItem)
                {
                    case TaskActivityWorkItem activity:
                        await inner.AbandonTaskActivityWorkItemAsync(activity).ConfigureAwait(false);
                        awaited.Add(new DetachedActivity(activity.TaskMessage.OrchestrationInstance.InstanceId, ScheduledTaskId(activity)));
                        break;
                    case TaskOrchestrationWorkItem orchestration:
                        if (before == WorkItemState.Locked)
                        {
                            await inner.AbandonTaskOrchestrationWorkItemAsync(orchestration).ConfigureAwait(false);
                            awaited.Add(new DetachedOrchestration(orchestration.InstanceId));
                        }
                        await inner.ReleaseTaskOrchestrationWorkItemAsync(orchestration).ConfigureAwait(false);
                        break;
                }
            }
            catch (Exception exception)
            {
                // The message stays invisible until its visibility timeout, then is redelivered anyway.
                logger.LogWarning(exception, "Could not abandon an in-flight work item at shutdown; it is redelivered after the visibility timeout.");
            }
            finally
            {
                tracked.Gate.Release();
            }
        }
        return awaited;
    }

    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        if (IsIntakeClosed(activities: true))
            return await IdleUntilCancelledAsync<TaskActivityWorkItem>(cancellationToken).ConfigureAwait(false);
        var workItem = await inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken).ConfigureAwait(false);
        if (workItem is null)
            return null!;
        if (TryAdmit(workItem) is not { } tracked)
        {
            await inner.AbandonTaskActivityWorkItemAsync(workItem).ConfigureAwait(false);
            return null!;
        }
        tracked.StartRenewal(token => KeepLockedAsync(
            () => workItem.LockedUntilUtc,
            async () => { await inner.RenewTaskActivityWorkItemLockAsync(workItem).ConfigureAwait(false); },
            $"activity {workItem.Id}",
            token));
        return workItem;
    }

    public Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage) =>
        SettleAsync(workItem, WorkItemState.Done, () => inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage));

    public Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem) =>
        SettleAsync(workItem, WorkItemState.Done, () => inner.AbandonTaskActivityWorkItemAsync(workItem));

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) =>
        inner.RenewTaskActivityWorkItemLockAsync(workItem);

    public async Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        if (IsIntakeClosed(activities: false))
            return await IdleUntilCancelledAsync<TaskOrchestrationWorkItem>(cancellationToken).ConfigureAwait(false);
        var workItem = await inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken).ConfigureAwait(false);
        if (workItem is null)
            return null!;
        if (TryAdmit(workItem) is not { } tracked)
        {
            await inner.AbandonTaskOrchestrationWorkItemAsync(workItem).ConfigureAwait(false);
            await inner.ReleaseTaskOrchestrationWorkItemAsync(workItem).ConfigureAwait(false);
            return null!;
        }
        tracked.StartRenewal(token => KeepLockedAsync(
            () => workItem.LockedUntilUtc,
            () => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem),
            $"orchestration {workItem.InstanceId}",
            token));
        return workItem;
    }

    // An orchestration session stays this process's until it is released, so completing or abandoning
    // only settles it; release removes it.
    public Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage, OrchestrationState orchestrationState) =>
        SettleAsync(workItem, WorkItemState.Settled, () => inner.CompleteTaskOrchestrationWorkItemAsync(workItem,
            newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState));

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) =>
        SettleAsync(workItem, WorkItemState.Settled, () => inner.AbandonTaskOrchestrationWorkItemAsync(workItem));

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) =>
        SettleAsync(workItem, WorkItemState.Done, () => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem));

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) =>
        inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    /// <summary>Tracks a newly locked item, unless its intake has closed (then null: the caller gives it back).</summary>
    private TrackedWorkItem? TryAdmit(object workItem)
    {
        bool isActivity = workItem is TaskActivityWorkItem;
        lock (admission)
        {
            if (isActivity ? activityIntakeClosed : orchestrationIntakeClosed)
                return null;
            var tracked = new TrackedWorkItem();
            inFlight[workItem] = tracked;
            if (!isActivity)
                NoteOrchestrationChange();
            return tracked;
        }
    }

    private bool IsIntakeClosed(bool activities)
    {
        lock (admission)
            return activities ? activityIntakeClosed : orchestrationIntakeClosed;
    }

    private void NoteOrchestrationChange() => Interlocked.Exchange(ref lastOrchestrationChangeTicks, DateTime.UtcNow.Ticks);

    /// <summary>
    /// With intake closed, the sidecar's dispatcher would otherwise spin on empty fetches (the stopped
    /// provider answers at once); park it until the dispatcher itself stops.
    /// </summary>
    private static async Task<T> IdleUntilCancelledAsync<T>(CancellationToken cancellationToken) where T : class
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The dispatcher is stopping.
        }
        return null!;
    }

    /// <summary>
    /// Forwards a completion, abandon or release unless shutdown already detached the item (then its
    /// message is back in the queue and the call is dropped). Renewal stops first, so a renewal never
    /// races the call that ends the lock.
    /// </summary>
    private async Task SettleAsync(object workItem, WorkItemState next, Func<Task> forward)
    {
        if (!inFlight.TryGetValue(workItem, out var tracked))
            return;
        await tracked.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (tracked.State is WorkItemState.Detached or WorkItemState.Done)
                return;
            await tracked.StopRenewalAsync().ConfigureAwait(false);
            // On failure the state stays, so the dispatcher's follow-up abandon (or shutdown) still reaches the provider.
            await forward().ConfigureAwait(false);
            tracked.State = next;
            if (next == WorkItemState.Done)
                inFlight.TryRemove(workItem, out _);
            if (workItem is TaskOrchestrationWorkItem)
                NoteOrchestrationChange();
        }
        finally
        {
            tracked.Gate.Release();
        }
    }

    /// <summary>Renews at half the remaining lock time (DurableTask.Core's dispatchers renew similarly ahead of expiry).</summary>
    private async Task KeepLockedAsync(Func<DateTime> lockedUntilUtc, Func<Task> renew, string what, CancellationToken stop)
    {
        // A provider without expiring locks (the in-memory one) reports no expiry.
        if (lockedUntilUtc() == default || lockedUntilUtc() == DateTime.MaxValue)
            return;
        while (true)
        {
            var pause = (lockedUntilUtc() - DateTime.UtcNow) / 2;
            try
            {
                await Task.Delay(pause > ShortestRenewalPause ? pause : ShortestRenewalPause, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                await renew().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Renewing the lock of {WorkItem} failed; retrying in {Pause}.", what, PauseAfterFailedRenewal);
                try
                {
                    await Task.Delay(PauseAfterFailedRenewal, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static int ScheduledTaskId(TaskActivityWorkItem workItem) =>
        workItem.TaskMessage.Event is TaskScheduledEvent scheduled ? scheduled.EventId : -1;

    // The engine starts and stops the provider itself; see the class summary.
    public Task StartAsync() => Task.CompletedTask;
    public Task StopAsync() => Task.CompletedTask;
    public Task StopAsync(bool isForced) => Task.CompletedTask;

    public Task CreateAsync() => inner.CreateAsync();
    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);
    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();
    public Task DeleteAsync() => inner.DeleteAsync();
    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);
    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);
    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);
    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);
    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;
    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;
    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;
    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;
    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;

    private enum WorkItemState
    {
        /// <summary>Locked and being renewed.</summary>
        Locked,
        /// <summary>An orchestration completed or abandoned, its session not yet released.</summary>
        Settled,
        /// <summary>Finished normally; no longer tracked.</summary>
        Done,
        /// <summary>Abandoned by shutdown; later calls for it are dropped.</summary>
        Detached,
    }

    private sealed class TrackedWorkItem
    {
        private readonly CancellationTokenSource stopRenewal = new();
        private Task renewal = Task.CompletedTask;

        /// <summary>Serialises settle, release and detach calls for one item.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public WorkItemState State { get; set; } = WorkItemState.Locked;

        public void StartRenewal(Func<CancellationToken, Task> keepLocked) =>
            renewal = Task.Run(() => keepLocked(stopRenewal.Token));

        private bool renewalStopped;

        /// <summary>Ends the renewal loop and waits for a renewal in progress. Callers hold <see cref="Gate"/>.</summary>
        public async Task StopRenewalAsync()
        {
            if (renewalStopped)
                return;
            renewalStopped = true;
            stopRenewal.Cancel();
            await renewal.ConfigureAwait(false);
            stopRenewal.Dispose();
        }
    }
}
