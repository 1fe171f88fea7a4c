using System.Collections.Concurrent;
using Microsoft.DurableTask;

namespace FeatureAug.LocalEngine.Tests;

/// <summary>Names the engine a test started, so results can say which engine ran each activity.</summary>
public sealed record EngineLabel(string Name);

/// <summary>One activity execution: which engine ran which activity on which input.</summary>
public sealed record ActivityExecution(string Engine, string Activity, string Input);

/// <summary>
/// Every activity execution, in order, shared by all engines of one test (registered as a singleton),
/// so a test can tell a first run from a re-run.
/// </summary>
public sealed class ActivityLedger
{
    private readonly ConcurrentQueue<ActivityExecution> executions = new();

    public IReadOnlyList<ActivityExecution> Executions => executions.ToArray();

    public void Record(EngineLabel engine, string activity, string input) =>
        executions.Enqueue(new ActivityExecution(engine.Name, activity, input));

    public int Count(string activity) => executions.Count(execution => execution.Activity == activity);

    /// <summary>Waits until <paramref name="activity"/> has run at least <paramref name="count"/> times.</summary>
    public async Task WaitForCountAsync(string activity, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Count(activity) < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(
                    $"{activity} ran {Count(activity)} times, expected {count} within {timeout.TotalSeconds:0} s. " +
                    $"Executions: {string.Join(", ", Executions)}");
            await Task.Delay(50);
        }
    }
}

/// <summary>Holds <see cref="GatedStepActivity"/> until the test opens it.</summary>
public sealed class ActivityGate
{
    private readonly TaskCompletionSource open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Opened => open.Task;

    public void Open() => open.TrySetResult();
}

/// <summary>Squares its input: the unit of work of <see cref="FanOutOrchestrator"/>.</summary>
public sealed class SquareActivity(ActivityLedger ledger, EngineLabel engine) : TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int input)
    {
        ledger.Record(engine, nameof(SquareActivity), input.ToString());
        return Task.FromResult(input * input);
    }
}

/// <summary>Fans out one <see cref="SquareActivity"/> per number in 0..n-1 and returns the squares in order.</summary>
public sealed class FanOutOrchestrator : TaskOrchestrator<int, int[]>
{
    public override async Task<int[]> RunAsync(TaskOrchestrationContext context, int count) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => context.CallActivityAsync<int>(nameof(SquareActivity), i)));
}

/// <summary>Returns "step@engine": the output shows which engine produced each result.</summary>
public sealed class StepActivity(ActivityLedger ledger, EngineLabel engine) : TaskActivity<string, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, string step)
    {
        ledger.Record(engine, nameof(StepActivity), step);
        return Task.FromResult($"{step}@{engine.Name}");
    }
}

/// <summary>Like <see cref="StepActivity"/>, but waits for the test's <see cref="ActivityGate"/> first.</summary>
public sealed class GatedStepActivity(ActivityLedger ledger, EngineLabel engine, ActivityGate gate) : TaskActivity<string, string>
{
    public override async Task<string> RunAsync(TaskActivityContext context, string step)
    {
        ledger.Record(engine, nameof(GatedStepActivity), step);
        await gate.Opened;
        return $"{step}@{engine.Name}";
    }
}

/// <summary>Steps a and b, then the gated step, then c, one after another.</summary>
public sealed class GatedSequenceOrchestrator : TaskOrchestrator<string?, string[]>
{
    public override async Task<string[]> RunAsync(TaskOrchestrationContext context, string? input) =>
    [
        await context.CallActivityAsync<string>(nameof(StepActivity), "a"),
        await context.CallActivityAsync<string>(nameof(StepActivity), "b"),
        await context.CallActivityAsync<string>(nameof(GatedStepActivity), "gate"),
        await context.CallActivityAsync<string>(nameof(StepActivity), "c"),
    ];
}

/// <summary>Throws on its first <c>failures</c> calls, then returns the number of the call that succeeded.</summary>
public sealed class FlakyActivity(ActivityLedger ledger, EngineLabel engine) : TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int failures)
    {
        ledger.Record(engine, nameof(FlakyActivity), failures.ToString());
        int attempt = ledger.Count(nameof(FlakyActivity));
        if (attempt <= failures)
            throw new InvalidOperationException($"Transient failure on attempt {attempt}.");
        return Task.FromResult(attempt);
    }
}

/// <summary>Calls <see cref="FlakyActivity"/> with a retry policy (retries wait on durable timers).</summary>
public sealed class RetryingOrchestrator : TaskOrchestrator<int, int>
{
    public override Task<int> RunAsync(TaskOrchestrationContext context, int failures) =>
        context.CallActivityAsync<int>(nameof(FlakyActivity), failures,
            TaskOptions.FromRetryPolicy(new RetryPolicy(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(1))));
}

/// <summary>Sleeps for the given number of milliseconds: longer than the message visibility timeout in the renewal test.</summary>
public sealed class SlowActivity(ActivityLedger ledger, EngineLabel engine) : TaskActivity<int, int>
{
    public override async Task<int> RunAsync(TaskActivityContext context, int milliseconds)
    {
        ledger.Record(engine, nameof(SlowActivity), milliseconds.ToString());
        await Task.Delay(milliseconds);
        return milliseconds;
    }
}

public sealed class SlowOrchestrator : TaskOrchestrator<int, int>
{
    public override Task<int> RunAsync(TaskOrchestrationContext context, int milliseconds) =>
        context.CallActivityAsync<int>(nameof(SlowActivity), milliseconds);
}

/// <summary>The registrations every engine in these tests uses.</summary>
public static class DurableTestTasks
{
    public static void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestrator<FanOutOrchestrator>();
        registry.AddOrchestrator<GatedSequenceOrchestrator>();
        registry.AddOrchestrator<RetryingOrchestrator>();
        registry.AddOrchestrator<SlowOrchestrator>();
        registry.AddActivity<SquareActivity>();
        registry.AddActivity<StepActivity>();
        registry.AddActivity<GatedStepActivity>();
        registry.AddActivity<FlakyActivity>();
        registry.AddActivity<SlowActivity>();
    }
}
