using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;

namespace FeatureAug.Workflow;

/// <summary>Rebalance mode: the backbone of the model's champion, or the backbone it was registered with.</summary>
public sealed class ResolveChampionBackboneActivity(ModelRegistry registry, StageServices services)
    : StageActivity<RunRequest, BackboneReference>(services)
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
