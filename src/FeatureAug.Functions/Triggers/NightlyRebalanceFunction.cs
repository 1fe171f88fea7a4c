using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Functions.Triggers;

/// <summary>Starts the nightly Rebalance run of every model that asks for one (schedule: the NightlyRebalanceSchedule setting).</summary>
public sealed class NightlyRebalanceFunction(
    ModelRegistry registry, RunDefaults defaults, TimeProvider time, ILogger<NightlyRebalanceFunction> logger)
{
    public const string Schedule = "%NightlyRebalanceSchedule%";

    [Function("NightlyRebalance")]
    public async Task Run(
        [TimerTrigger(Schedule)] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        if (timer.IsPastDue)
            logger.LogWarning("Nightly rebalance is running late (past due).");
        var decisions = await new NightlyRebalancer(registry, client, defaults).RunAsync(time.GetUtcNow(), cancellationToken);
        foreach (var decision in decisions)
        {
            logger.LogInformation("Nightly rebalance of {Model}: {Outcome} ({RunId}): {Reason}",
                decision.ModelName, decision.Outcome, decision.RunId, decision.Reason);
        }
        if (decisions.Count == 0)
            logger.LogInformation("Nightly rebalance: no model has nightly rebalancing on.");
    }
}
