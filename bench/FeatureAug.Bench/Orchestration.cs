using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Bench;

/// <summary>
/// Orchestration overhead of the embedded Durable engine (the CLI's, Microsoft.DurableTask.InProcessTestHost): one
/// orchestration fans out N trivial activities (return the input) and waits for all, as the workflow fans out one
/// FuseTailClass activity per tail class. Wall time per activity = what the engine costs beyond the work.
/// </summary>
internal static class Orchestration
{
    public static async Task<List<Dictionary<string, object>>> MeasureAsync(IEnumerable<int> fanOuts, int concurrency)
    {
        Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
        await using var host = await DurableTaskTestHost.StartAsync(registry =>
        {
            registry.AddOrchestratorFunc<int, long>("FanOut", async (context, n) =>
                (await Task.WhenAll(Enumerable.Range(0, n).Select(i => context.CallActivityAsync<int>("Echo", i)))).Sum(x => (long)x));
            registry.AddActivityFunc<int, int>("Echo", (_, i) => i);
        }, new DurableTaskTestHostOptions { LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)) });
        var rows = new List<Dictionary<string, object>>();
        await RunAsync(host.Client, 10);   // warm-up
        foreach (int n in fanOuts)
        {
            var clock = Stopwatch.StartNew();
            await RunAsync(host.Client, n);
            double seconds = clock.Elapsed.TotalSeconds;
            var row = new Dictionary<string, object>
            {
                ["activities"] = n, ["seconds"] = seconds, ["millisecondsPerActivity"] = 1000 * seconds / n,
                ["peakWorkingSetMiB"] = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0),
            };
            Console.WriteLine(JsonSerializer.Serialize(row));
            rows.Add(row);
        }
        return rows;
    }

    private static async Task RunAsync(DurableTaskClient client, int n)
    {
        string id = await client.ScheduleNewOrchestrationInstanceAsync("FanOut", n);
        var state = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);
        long expected = (long)n * (n - 1) / 2;
        if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed || state.ReadOutputAs<long>() != expected)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Fan-out of {n} ended {state.RuntimeStatus} with {state.SerializedOutput}, expected {expected}."));
    }
}
