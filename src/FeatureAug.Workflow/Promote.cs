using FeatureAug.Core.Fsa;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

public sealed record PromoteInput(RunRequest Request, EvaluateResult Evaluation, BackboneReference Backbone);

/// <summary>
/// Step 8: makes the run's candidate head (Evaluate's choice) the model's champion when there is none, or when it
/// beats the champion's balanced accuracy on the same evaluation data by more than the margin. The pointer update is ETag-guarded.
/// </summary>
public sealed class PromoteActivity(RunWorkspace workspace, ModelRegistry registry, StageServices services)
    : StageActivity<PromoteInput, PromotionDecision>(services)
{
    protected override string RunIdOf(PromoteInput input) => input.Request.RunId;

    protected override async Task<PromotionDecision?> TryReuseAsync(PromoteInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<PromotionDecision>(new RunLayout(input.Request.RunId).Promotion, cancellationToken))?.Value;

    protected override async Task<PromotionDecision> ComputeAsync(PromoteInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        if (await registry.GetAsync(request.ModelName, cancellationToken) is null)
        {
            var summary = await workspace.Store.ReadJsonAsync<DatasetSummary>(new RunLayout(request.RunId).DatasetSummary, cancellationToken);
            await registry.RegisterAsync(new ModelRecord(request.ModelName, request.Architecture, summary.Channels, summary.Classes,
                request.Dataset, NightlyRebalance: false, DateTimeOffset.UtcNow), cancellationToken);
        }
        // The run's candidate (best on validation, or the method the request named) is the challenger; the comparison
        // with the champion is on the evaluation set, where both are measured alike.
        var evaluation = input.Evaluation;
        double challengerTop1 = evaluation.Top1[evaluation.Candidate];
        var challenger = new ChampionPointer(0, request.RunId, input.Backbone.CheckpointPath, evaluation.HeadPath, evaluation.ModelPath,
            evaluation.Candidate, challengerTop1, DateTimeOffset.UtcNow)
        {
            Configuration = evaluation.Configurations?.GetValueOrDefault(evaluation.Candidate)?.Describe(),
            ChosenBecause = evaluation.CandidateReason,
        };
        // Compare on today's held-out data: Evaluate re-measured the champion there when it could.
        var championToday = input.Evaluation is { ChampionRunId: { } championRun, ChampionTop1: { } championTop1 }
            ? new ChampionEvaluation(championRun, championTop1)
            : null;
        var decision = await registry.TryPromoteAsync(
            request.ModelName, challenger, request.Execution.PromotionMargin, championToday, cancellationToken);
        await workspace.Store.WriteJsonAsync(new RunLayout(request.RunId).Promotion, decision, cancellationToken);
        return decision;
    }
}
