using FeatureAug.Functions.Requests;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Functions.Triggers;

/// <summary>What the nightly timer did for one model.</summary>
public enum NightlyOutcome
{
    /// <summary>Today's rebalance run was scheduled.</summary>
    Started,

    /// <summary>Today's run already exists (the timer fired twice); nothing new started.</summary>
    AlreadyStarted,

    /// <summary>Another run of the model is still going; rebalancing now would compete with it.</summary>
    SkippedBusy,

    /// <summary>The model has neither a champion nor a registered backbone to rebalance.</summary>
    SkippedNoBackbone,

    /// <summary>The model's registration does not make a valid run request (e.g. its data set reference is bad).</summary>
    SkippedInvalid,
}

/// <summary>One model's line of the nightly decision.</summary>
/// <param name="RunId">Today's run id for the model.</param>
/// <param name="Reason">Why, in words, for the log.</param>
public sealed record NightlyDecision(string ModelName, string RunId, NightlyOutcome Outcome, string Reason);

/// <summary>
/// The nightly rebalancing timer's logic: for every registered model with
/// <see cref="ModelRecord.NightlyRebalance"/> on, start a Rebalance run on the model's data set under the
/// deterministic id <see cref="RunIds.ForNightlyRebalance"/> (one per model per UTC day), unless another
/// run of the same model is still pending, running or suspended.
/// </summary>
public sealed class NightlyRebalancer(ModelRegistry registry, DurableTaskClient client, RunDefaults? defaults = null)
{
    private readonly RunDefaults _defaults = defaults ?? RunDefaults.Standard;

    private static readonly OrchestrationRuntimeStatus[] Unfinished =
    [
        OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended,
    ];

    /// <summary>Decides, and starts runs, for the day of <paramref name="nowUtc"/>; one decision per model with nightly rebalancing on, by name.</summary>
    public async Task<IReadOnlyList<NightlyDecision>> RunAsync(DateTimeOffset nowUtc, CancellationToken cancellationToken)
    {
        var models = (await registry.ListAsync(cancellationToken)).Where(m => m.NightlyRebalance).ToList();
        if (models.Count == 0)
            return [];
        var busy = await UnfinishedRunsByModelAsync(cancellationToken);

        var decisions = new List<NightlyDecision>(models.Count);
        foreach (var model in models)
        {
            string runId = RunIds.ForNightlyRebalance(model.Name, nowUtc);
            decisions.Add(await DecideAsync(model, runId, busy, cancellationToken));
        }
        return decisions;
    }

    private async Task<NightlyDecision> DecideAsync(
        ModelRecord model, string runId, IReadOnlyDictionary<string, List<string>> busy, CancellationToken cancellationToken)
    {
        if (busy.TryGetValue(model.Name, out var running))
        {
            var others = running.Where(id => id != runId).ToList();
            if (others.Count > 0)
                return new NightlyDecision(model.Name, runId, NightlyOutcome.SkippedBusy,
                    $"run {string.Join(", ", others)} of this model is still going");
        }
        if (model.BackbonePath is null && await registry.GetChampionAsync(model.Name, cancellationToken) is null)
            return new NightlyDecision(model.Name, runId, NightlyOutcome.SkippedNoBackbone,
                "the model has neither a champion nor a registered backbone yet");

        var request = new RunRequest(runId, model.Dataset, model.Name, model.Architecture, RunMode.Rebalance,
            _defaults.Training, _defaults.Fsa, _defaults.Execution);
        var problems = RunRequestValidation.Problems(request);
        if (problems.Count > 0)
            return new NightlyDecision(model.Name, runId, NightlyOutcome.SkippedInvalid, string.Join(" ", problems.Select(p => p.ToString())));

        bool created = await RunLauncher.StartOrAttachAsync(client, request, cancellationToken);
        return created
            ? new NightlyDecision(model.Name, runId, NightlyOutcome.Started, $"rebalancing on data set {Describe(model.Dataset)}")
            : new NightlyDecision(model.Name, runId, NightlyOutcome.AlreadyStarted, "today's run already exists");
    }

    /// <summary>Model name to the ids of its runs that have not finished, from the runs' inputs.</summary>
    private async Task<IReadOnlyDictionary<string, List<string>>> UnfinishedRunsByModelAsync(CancellationToken cancellationToken)
    {
        var byModel = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var query = new OrchestrationQuery { Statuses = Unfinished, FetchInputsAndOutputs = true, PageSize = 100 };
        await foreach (var instance in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (instance.Name != FeatureAugOrchestrator.Name)
                continue;
            RunRequest? input;
            try
            {
                input = instance.ReadInputAs<RunRequest>();
            }
            catch (Exception exception) when (exception is System.Text.Json.JsonException or NotSupportedException)
            {
                continue; // an instance whose input is not a run request is not a run of any model
            }
            if (input is null)
                continue;
            if (!byModel.TryGetValue(input.ModelName, out var ids))
                byModel.Add(input.ModelName, ids = new List<string>());
            ids.Add(instance.InstanceId);
        }
        return byModel;
    }

    private static string Describe(DatasetReference dataset) =>
        dataset.StoreName is not null ? $"datasets/{dataset.StoreName} ({dataset.Kind})" : dataset.Kind;
}
