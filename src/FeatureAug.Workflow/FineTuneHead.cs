using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

public sealed record FineTuneInput(
    RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, PlannedAugmentation Plan,
    IReadOnlyList<FuseResult> Fused, string Method, int ShardCount);

/// <summary>
/// One method's head: where it is stored, how it was chosen (<see cref="HeadConfiguration"/>) and how its training
/// went. Seconds covers every configuration tried.
/// </summary>
public sealed record HeadResult(string Method, string Path, double Seconds, double FinalLoss, double ReuseFactor, HeadConfiguration? Configuration = null);

/// <summary>
/// Step 6: Phase II of one trained method (<see cref="HeadMethods.Trained"/>) on the stored pooled features. With a
/// validation split the method's learning rate and iterations are chosen on it (<see cref="HeadSelection"/>), by the
/// same rule for every method.
/// </summary>
public sealed class FineTuneHeadActivity(RunWorkspace workspace, StageServices services)
    : StageActivity<FineTuneInput, HeadResult>(services)
{
    protected override string RunIdOf(FineTuneInput input) => input.Request.RunId;

    protected override async Task<HeadResult?> TryReuseAsync(FineTuneInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<HeadResult>(new RunLayout(input.Request.RunId).HeadResult(input.Method), cancellationToken))?.Value;

    protected override async Task<HeadResult> ComputeAsync(FineTuneInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        string runId = request.RunId;
        if (!HeadMethods.TryFromKey(input.Method, out var method) || !HeadMethods.Trained.Contains(method))
            throw new InvalidRunInputException($"method: '{input.Method}' is not a trained head ({string.Join(", ", HeadMethods.Trained.Select(m => m.Key()))}).");
        var inputs = await workspace.Store.ReadJsonAsync<PlanInputs>(input.Plan.PlanInputsPath, cancellationToken);
        var plan = AugmentationPlan.Rebuild(inputs.ClassCounts, inputs.ConfusingClasses, request.Fsa, request.Execution.Seed);
        var layout = new RunLayout(runId);
        var reader = FeatureShardReader.Open(await workspace.GetLocalDirectoryAsync(layout.Features, cancellationToken));
        using var pooled = reader.ReadPooled();
        using var model = await BackboneLoader.LoadAsync(workspace, input.Backbone, input.Dataset.Channels, input.Dataset.Classes.Count, cancellationToken);
        using var phaseOne = ClassifierHead.FromLinear(model.Classifier);
        using var validation = input.Dataset.HasValidation
            ? EvaluationFeatures.Load(await workspace.GetLocalCopyAsync(layout.ValidationFeatures, cancellationToken))
            : null;

        var banks = new List<FusionBank>();
        try
        {
            if (method == HeadMethod.Fsa)
            {
                foreach (int c in plan.FusedClasses)
                {
                    var fused = input.Fused.Single(f => f.TailClass == c);
                    banks.Add(FeatureShardReader.ReadBank(await workspace.GetLocalCopyAsync(fused.Path, cancellationToken)));
                }
            }
            using var selected = HeadSelection.SelectTrained(method, request.Fsa,
                schedule => HeadFineTuning.Train(method, pooled, plan, banks, phaseOne, schedule, cancellationToken),
                validation, input.Dataset.TrainCounts, cancellationToken);
            float finalLoss = selected.FinalLoss;
            if (!float.IsFinite(finalLoss) || !selected.Head.IsFinite)
                throw new InvalidRunInputException($"Phase II of {method.Display()} diverged (final loss {finalLoss}); lower the Phase-II learning rate. No head was written.");
            using (var scratch = workspace.NewScratchDirectory(runId, "head"))
            {
                string file = scratch.File("head.safetensors");
                selected.Head.Save(file);
                await workspace.Store.UploadFromFileAsync(layout.Head(input.Method), file, cancellationToken);
            }
            var result = new HeadResult(input.Method, layout.Head(input.Method), selected.Elapsed.TotalSeconds, finalLoss, selected.ReuseFactor, selected.Configuration);
            await workspace.Store.WriteJsonAsync(layout.HeadResult(input.Method), result, cancellationToken);
            return result;
        }
        finally
        {
            foreach (var bank in banks) bank.Dispose();
        }
    }
}
