using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Workflow.Tests;

/// <summary>
/// An orchestration context without the Durable Task engine. Activities are answered by functions the test
/// registers per activity name; every call is recorded. Like the engine, it lets the orchestrator run until it
/// waits, then delivers the results of everything scheduled so far, so a fan-out only shows up as one batch
/// when the orchestrator scheduled all of it before awaiting any of it. Members the orchestrator must not use
/// throw, so a test fails when it starts using one unnoticed.
/// </summary>
internal sealed class FakeOrchestrationContext(string instanceId) : TaskOrchestrationContext
{
    private readonly Dictionary<string, Func<object?, object?>> answers = new();
    private readonly List<ActivityCall> calls = new();
    private readonly List<object?> statuses = new();
    private readonly List<Action> pending = new();
    private int delivered;

    /// <summary>One activity call: what was asked, and how many results had been delivered when it was scheduled.</summary>
    public sealed record ActivityCall(string Name, object? Input, TaskOptions? Options, int DeliveredBefore);

    public IReadOnlyList<ActivityCall> Calls => calls;

    public IReadOnlyList<object?> CustomStatuses => statuses;

    /// <summary>The orchestration clock; the test moves it, or lets every delivered result move it by <see cref="TimePerActivity"/>.</summary>
    public DateTime UtcNow { get; set; } = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public TimeSpan TimePerActivity { get; set; } = TimeSpan.Zero;

    /// <summary>Deliver each batch of waiting calls last-scheduled first, to show results do not depend on completion order.</summary>
    public bool CompleteInReverse { get; set; }

    /// <summary>Answers calls to <paramref name="activity"/>; a throwing answer fails that call as the engine would.</summary>
    public FakeOrchestrationContext Answer<TInput, TResult>(string activity, Func<TInput, TResult> answer)
    {
        answers[activity] = input => answer((TInput)input!);
        return this;
    }

    /// <summary>Runs the orchestrator to its end, delivering activity results batch by batch.</summary>
    public Task<TOutput> RunAsync<TInput, TOutput>(TaskOrchestrator<TInput, TOutput> orchestrator, TInput input) =>
        // On a pool thread: no synchronization context or test scheduler, so the orchestrator's continuations
        // run inline when a result is delivered, as they do on the engine's single orchestration thread.
        Task.Run(() =>
        {
            var run = orchestrator.RunAsync(this, input);
            while (!run.IsCompleted)
            {
                if (pending.Count == 0)
                    throw new InvalidOperationException("The orchestrator waits on something other than an activity.");
                var batch = pending.ToList();
                pending.Clear();
                if (CompleteInReverse) batch.Reverse();
                foreach (var deliver in batch)
                {
                    delivered++;
                    UtcNow += TimePerActivity;
                    deliver();
                }
            }
            return run;
        }).WaitAsync(TimeSpan.FromSeconds(30)); // an orchestrator that blocks its thread fails the test instead of hanging it

    public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null)
    {
        if (!answers.TryGetValue(name.Name, out var answer))
            throw new InvalidOperationException($"The test gave no answer for activity {name.Name}.");
        var call = new ActivityCall(name.Name, input, options, delivered);
        int taskId = calls.Count;
        calls.Add(call);
        var result = new TaskCompletionSource<TResult>();
        pending.Add(() =>
        {
            try
            {
                result.SetResult((TResult)answer(input)!);
            }
            catch (TaskFailedException failure)
            {
                result.SetException(failure);
            }
            catch (Exception failure)
            {
                // What the orchestrator sees when an activity throws (after its retries).
                result.SetException(new TaskFailedException(name.Name, taskId, failure));
            }
        });
        return result.Task;
    }

    public override void SetCustomStatus(object? customStatus) => statuses.Add(customStatus);

    public override DateTime CurrentUtcDateTime => UtcNow;

    public override TaskName Name => FeatureAugOrchestrator.Name;

    public override string InstanceId => instanceId;

    public override ParentOrchestrationInstance? Parent => null;

    public override bool IsReplaying => false;

    // Not used by the orchestrator: timers, events, sub-orchestrations and ContinueAsNew would change its
    // history shape, so a test should notice when it starts using them.
    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) => throw Unsupported();

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) => throw Unsupported();

    public override void SendEvent(string instanceId, string eventName, object payload) => throw Unsupported();

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null) => throw Unsupported();

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) => throw Unsupported();

    public override Guid NewGuid() => throw Unsupported();

    public override T GetInput<T>() => throw Unsupported();

    protected override ILoggerFactory LoggerFactory => throw Unsupported();

    private static NotSupportedException Unsupported([System.Runtime.CompilerServices.CallerMemberName] string member = "") =>
        new($"{nameof(FeatureAugOrchestrator)} is not expected to use {member}.");
}
