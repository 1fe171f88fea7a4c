using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

public sealed record FineTuneInput(
    RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, PlannedAugmentation Plan,
    IReadOnlyList<FuseResult> Fused, string Method, int ShardCount);

public sealed record HeadResult(string Method, string Path, double Seconds, double FinalLoss, double ReuseFactor);

/// <summary>Step 6: Phase-II re-training of one method's head (FSA, No-Aug or cRT) on the stored pooled features.</summary>
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
        var inputs = await workspace.Store.ReadJsonAsync<PlanInputs>(input.Plan.PlanInputsPath, cancellationToken);
        var plan = AugmentationPlan.Rebuild(inputs.ClassCounts, inputs.ConfusingClasses, request.Fsa, request.Execution.Seed);
        var reader = FeatureShardReader.Open(await workspace.GetLocalDirectoryAsync(new RunLayout(runId).Features, cancellationToken));
        using var pooled = reader.ReadPooled();
        using var model = await BackboneLoader.LoadAsync(workspace, input.Backbone, input.Dataset.Channels, input.Dataset.Classes.Count, cancellationToken);
        using var phaseOne = ClassifierHead.FromLinear(model.Classifier);

        HeadTrainingResult trained;
        if (input.Method == HeadMethod.Fsa.Key())
        {
            var banks = new List<FusionBank>();
            try
            {
                foreach (int c in plan.FusedClasses)
                {
                    var fused = input.Fused.Single(f => f.TailClass == c);
                    banks.Add(FeatureShardReader.ReadBank(await workspace.GetLocalCopyAsync(fused.Path, cancellationToken)));
                }
                trained = HeadFineTuning.TrainFsa(pooled, plan, banks, phaseOne, cancellationToken);
            }
            finally
            {
                foreach (var bank in banks) bank.Dispose();
            }
        }
        else if (input.Method == HeadMethod.NoAug.Key())
        {
            trained = HeadFineTuning.TrainNoAug(pooled, plan, phaseOne, cancellationToken);
        }
        else if (input.Method == HeadMethod.Crt.Key())
        {
            trained = HeadFineTuning.TrainCrt(pooled, plan, phaseOne, cancellationToken);
        }
        else
        {
            throw new InvalidRunInputException($"method: '{input.Method}' is not a trained head (noAug, crt, fsa).");
        }

        using (trained)
        {
            float finalLoss = trained.Losses.Length > 0 ? trained.Losses[^1] : float.NaN;
            if (!float.IsFinite(finalLoss) || !trained.Head.IsFinite)
                throw new InvalidRunInputException($"Phase II of {HeadMethods.FromKey(input.Method).Display()} diverged (final loss {finalLoss}); lower --finetune-lr. No head was written.");
            var layout = new RunLayout(runId);
            using (var scratch = workspace.NewScratchDirectory(runId, "head"))
            {
                string file = scratch.File("head.safetensors");
                trained.Head.Save(file);
                await workspace.Store.UploadFromFileAsync(layout.Head(input.Method), file, cancellationToken);
            }
            var result = new HeadResult(input.Method, layout.Head(input.Method), trained.Elapsed.TotalSeconds, finalLoss, trained.ReuseFactor);
            await workspace.Store.WriteJsonAsync(layout.HeadResult(input.Method), result, cancellationToken);
            return result;
        }
    }
}
