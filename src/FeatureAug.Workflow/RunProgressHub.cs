using System.Collections.Concurrent;
using System.Diagnostics;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

/// <summary>Fine-grained progress inside an activity (the orchestration's custom status only changes between activities).</summary>
public sealed record ActivityProgress(string RunId, string Stage, string Detail, long Done, long Total, double? Loss, double? ImagesPerSecond, DateTimeOffset UpdatedUtc);

/// <summary>
/// Publishes activity progress: in-process to whoever listens (the CLI's live display), and throttled
/// to runs/&lt;id&gt;/progress.json so a status query from another process or the HTTP API sees it too.
/// </summary>
public sealed class RunProgressHub(IArtifactStore store)
{
    private static readonly TimeSpan StoreInterval = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, long> lastWrite = new();

    public event Action<ActivityProgress>? Updated;

    public void Report(ActivityProgress progress)
    {
        Updated?.Invoke(progress);
        long now = Stopwatch.GetTimestamp();
        long previous = lastWrite.GetOrAdd(progress.RunId, 0);
        if (previous != 0 && Stopwatch.GetElapsedTime(previous, now) < StoreInterval && progress.Done < progress.Total) return;
        lastWrite[progress.RunId] = now;
        // Progress is advisory: a failed write must never fail the activity that reported it.
        _ = store.WriteJsonAsync(new RunLayout(progress.RunId).Progress, progress, CancellationToken.None)
            .ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }
}

/// <summary>
/// Counts, per run and activity, how often an activity really computed its output versus returned a
/// stored one. Tests use it to prove idempotence; the CLI prints it with --verbose.
/// </summary>
public sealed class ActivityExecutionLog
{
    private readonly ConcurrentDictionary<(string RunId, string Activity), int> computed = new();
    private readonly ConcurrentDictionary<(string RunId, string Activity), int> reused = new();

    public void Computed(string runId, string activity) => computed.AddOrUpdate((runId, activity), 1, (_, n) => n + 1);

    public void Reused(string runId, string activity) => reused.AddOrUpdate((runId, activity), 1, (_, n) => n + 1);

    public int ComputedCount(string runId, string activity) => computed.GetValueOrDefault((runId, activity));

    public int ReusedCount(string runId, string activity) => reused.GetValueOrDefault((runId, activity));

    public int TotalComputed(string runId) => computed.Where(kv => kv.Key.RunId == runId).Sum(kv => kv.Value);

    private readonly ConcurrentQueue<(string RunId, string Activity, DateTimeOffset Start, DateTimeOffset End)> intervals = new();

    /// <summary>Records when one computation ran, so tests can observe that a fan-out overlapped.</summary>
    public void Interval(string runId, string activity, DateTimeOffset start, DateTimeOffset end) =>
        intervals.Enqueue((runId, activity, start, end));

    public IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End)> Intervals(string runId, string activity) =>
        intervals.Where(i => i.RunId == runId && i.Activity == activity).Select(i => (i.Start, i.End)).ToList();
}
