using FeatureAug.Core.Fsa;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

/// <summary>Rebalance mode: the backbone of the model's champion, or the backbone it was registered with.</summary>
public sealed class ResolveChampionBackboneActivity(ModelRegistry registry, ActivityExecutionLog executions)
    : FeatureAugActivity<RunRequest, BackboneReference>(executions)
{
    protected override string RunIdOf(RunRequest input) => input.RunId;

    protected override Task<BackboneReference?> TryReuseAsync(RunRequest input, CancellationToken cancellationToken) =>
        Task.FromResult<BackboneReference?>(null); // a cheap read; always resolved afresh

    protected override async Task<BackboneReference> ComputeAsync(RunRequest input, CancellationToken cancellationToken)
    {
        var record = await registry.GetAsync(input.ModelName, cancellationToken)
            ?? throw new InvalidRunInputException($"modelName: model '{input.ModelName}' is not registered; run a full run or register it first.");
        var champion = await registry.GetChampionAsync(input.ModelName, cancellationToken);
        string path = champion?.BackbonePath ?? record.BackbonePath
            ?? throw new InvalidRunInputException($"modelName: model '{input.ModelName}' has neither a champion nor a registered backbone to rebalance.");
        if (record.Architecture != input.Architecture)
            throw new InvalidRunInputException($"model: run asks for {input.Architecture} but model '{input.ModelName}' is a {record.Architecture}.");
        return new BackboneReference(path, record.Architecture, 0);
    }
}

/// <summary>
/// Step 8: makes the run's FSA head the model's champion when there is none, or when it beats the champion's
/// balanced accuracy on the same held-out data by more than the margin. The pointer update is ETag-guarded.
/// </summary>
public sealed class PromoteActivity(RunWorkspace workspace, ModelRegistry registry, ActivityExecutionLog executions)
    : FeatureAugActivity<PromoteInput, PromotionDecision>(executions)
{
    public static string DecisionPath(string runId) => ArtifactPath.Combine(ArtifactPath.RunReports(runId), "promotion.json");

    protected override string RunIdOf(PromoteInput input) => input.Request.RunId;

    protected override async Task<PromotionDecision?> TryReuseAsync(PromoteInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<PromotionDecision>(DecisionPath(input.Request.RunId), cancellationToken))?.Value;

    protected override async Task<PromotionDecision> ComputeAsync(PromoteInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        if (await registry.GetAsync(request.ModelName, cancellationToken) is null)
        {
            var summary = await workspace.Store.ReadJsonAsync<DatasetSummary>(ValidateDatasetActivity.SummaryPath(request.RunId), cancellationToken);
            await registry.RegisterAsync(new ModelRecord(request.ModelName, request.Architecture, summary.Channels, summary.Classes,
                request.Dataset, NightlyRebalance: false, DateTimeOffset.UtcNow), cancellationToken);
        }
        double challengerTop1 = input.Evaluation.Top1[HeadMethod.Fsa.Key()];
        var challenger = new ChampionPointer(0, request.RunId, input.Backbone.CheckpointPath, input.Evaluation.HeadPath, input.Evaluation.ModelPath,
            HeadMethod.Fsa.Key(), challengerTop1, DateTimeOffset.UtcNow);
        // Compare on today's held-out data: Evaluate re-measured the champion there when it could.
        var championToday = input.Evaluation is { ChampionRunId: { } championRun, ChampionTop1: { } championTop1 }
            ? new ChampionEvaluation(championRun, championTop1)
            : null;
        var decision = await registry.TryPromoteAsync(
            request.ModelName, challenger, request.Execution.PromotionMargin, championToday, cancellationToken);
        await workspace.Store.WriteJsonAsync(DecisionPath(request.RunId), decision, cancellationToken);
        return decision;
    }
}
