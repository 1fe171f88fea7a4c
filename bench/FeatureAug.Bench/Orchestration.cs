using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FeatureAug.Workflow;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Bench;

/// <summary>
/// Orchestration overhead of the embedded Durable engine (the CLI's, Microsoft.DurableTask.InProcessTestHost): one
/// orchestration deals N trivial work items (return the input) over activities with <see cref="FusionBatches.Assign"/>,
/// as the workflow deals its tail classes over FuseTailClasses activities, and waits for all. Measured once with one
/// activity per item (the workflow before batching) and once with at most <c>maxActivities</c> activities.
/// Wall time per item = what the engine costs beyond the work.
/// </summary>
internal static class Orchestration
{
    private sealed record FanOut(int Items, int MaxActivities);

    public static async Task<List<Dictionary<string, object>>> MeasureAsync(IEnumerable<int> fanOuts, int maxActivities, int perItemUpTo)
    {
        Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
        await using var host = await DurableTaskTestHost.StartAsync(registry =>
        {
            registry.AddOrchestratorFunc<FanOut, long>("FanOut", async (context, fanOut) =>
            {
                var batches = FusionBatches.Assign(Enumerable.Range(0, fanOut.Items).ToArray(), fanOut.MaxActivities);
                return (await Task.WhenAll(batches.Select(batch => context.CallActivityAsync<long>("Echo", batch)))).Sum();
            });
            registry.AddActivityFunc<int[], long>("Echo", (_, items) => items.Sum(i => (long)i));
        }, new DurableTaskTestHostOptions { LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)) });
        var rows = new List<Dictionary<string, object>>();
        await RunAsync(host.Client, new FanOut(10, 10));   // warm-up
        foreach (int n in fanOuts)
        {
            foreach (int max in (n <= perItemUpTo ? new[] { n, maxActivities } : new[] { maxActivities }).Select(m => Math.Min(n, m)).Distinct())
            {
                var fanOut = new FanOut(n, max);
                var clock = Stopwatch.StartNew();
                await RunAsync(host.Client, fanOut);
                double seconds = clock.Elapsed.TotalSeconds;
                var row = new Dictionary<string, object>
                {
                    ["items"] = n, ["activities"] = Math.Min(n, max), ["seconds"] = seconds,
                    ["millisecondsPerItem"] = 1000 * seconds / n, ["millisecondsPerActivity"] = 1000 * seconds / Math.Min(n, max),
                    ["peakWorkingSetMiB"] = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0),
                };
                Console.WriteLine(JsonSerializer.Serialize(row));
                rows.Add(row);
            }
        }
        return rows;
    }

    private static async Task RunAsync(DurableTaskClient client, FanOut fanOut)
    {
        string id = await client.ScheduleNewOrchestrationInstanceAsync("FanOut", fanOut);
        var state = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);
        long expected = (long)fanOut.Items * (fanOut.Items - 1) / 2;
        if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed || state.ReadOutputAs<long>() != expected)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Fan-out of {fanOut.Items} over {fanOut.MaxActivities} ended {state.RuntimeStatus} with {state.SerializedOutput}, expected {expected}."));
    }
}
