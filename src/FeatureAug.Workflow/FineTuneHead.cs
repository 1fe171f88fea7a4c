using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FeatureAug.Workflow;

public sealed record FineTuneInput(
    RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, AugmentationPlan Plan,
    IReadOnlyList<FuseResult> Fused, string Method, int ShardCount);

public sealed record HeadResult(string Method, string Path, double Seconds, double FinalLoss, double ReuseFactor);

/// <summary>Reads and writes classifier heads as safetensors with PyTorch's Linear names (weight, bias).</summary>
public static class HeadFiles
{
    public static void Save(ClassifierHead head, string file)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor> { ["weight"] = head.Weight.detach().cpu().contiguous(), ["bias"] = head.Bias.detach().cpu().contiguous() };
        using var stream = File.Create(file);
        Safetensors.SaveStateDict(stream, tensors);
    }

    public static ClassifierHead Load(string file)
    {
        var tensors = Safetensors.LoadStateDict(file);
        if (!tensors.TryGetValue("weight", out var weight) || !tensors.TryGetValue("bias", out var bias))
            throw new InvalidDataException($"{file}: a classifier head needs 'weight' and 'bias' tensors.");
        var head = new ClassifierHead(weight, bias);
        foreach (var tensor in tensors.Values) tensor.Dispose();
        return head;
    }
}

/// <summary>Step 6: Phase-II re-training of one method's head (FSA, No-Aug or cRT) on the stored pooled features.</summary>
public sealed class FineTuneHeadActivity(RunWorkspace workspace, StageServices services)
    : FeatureAugActivity<FineTuneInput, HeadResult>(services)
{
    protected override string RunIdOf(FineTuneInput input) => input.Request.RunId;

    protected override async Task<HeadResult?> TryReuseAsync(FineTuneInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<HeadResult>(new RunLayout(input.Request.RunId).HeadResult(input.Method), cancellationToken))?.Value;

    protected override async Task<HeadResult> ComputeAsync(FineTuneInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        string runId = request.RunId;
        var inputs = await workspace.Store.ReadJsonAsync<PlanInputs>(input.Plan.PlanInputsPath, cancellationToken);
        var plan = FsaPlan.Create(inputs.ClassCounts, inputs.ConfusingClasses, request.Fsa);
        var reader = FeatureShardReader.Open(await workspace.GetLocalDirectoryAsync(new RunLayout(runId).Features, cancellationToken));
        using var pooled = reader.ReadPooled();
        using var model = await BackboneLoader.LoadAsync(workspace, input.Backbone, input.Dataset.Channels, input.Dataset.Classes.Count, cancellationToken);
        using var phaseOne = ClassifierHead.FromLinear(model.Classifier);

        HeadTrainingResult trained;
        if (input.Method == MethodNames.FeatureSpaceAugmentation)
        {
            var banks = new List<FusionBank>();
            try
            {
                foreach (int c in plan.FusedClasses)
                {
                    var fused = input.Fused.Single(f => f.TailClass == c);
                    banks.Add(FeatureShardReader.ReadBank(await workspace.GetLocalCopyAsync(fused.Path, cancellationToken)));
                }
                trained = PhaseTwo.TrainFsa(pooled, plan, banks, phaseOne, cancellationToken);
            }
            finally
            {
                foreach (var bank in banks) bank.Dispose();
            }
        }
        else if (input.Method == MethodNames.NoAugmentation)
        {
            trained = PhaseTwo.TrainNoAug(pooled, plan.Split, request.Fsa, phaseOne, cancellationToken);
        }
        else if (input.Method == MethodNames.ClassifierRetraining)
        {
            trained = PhaseTwo.TrainCrt(pooled, request.Fsa, phaseOne, cancellationToken);
        }
        else
        {
            throw new InvalidRunInputException($"method: '{input.Method}' is not a trained head (noAug, crt, fsa).");
        }

        using (trained)
        {
            float finalLoss = trained.Losses.Length > 0 ? trained.Losses[^1] : float.NaN;
            if (!float.IsFinite(finalLoss) || !torch.isfinite(trained.Head.Weight).all().item<bool>())
                throw new InvalidRunInputException($"Phase II of {MethodNames.Display(input.Method)} diverged (final loss {finalLoss}); lower --finetune-lr. No head was written.");
            var layout = new RunLayout(runId);
            using (var scratch = workspace.NewScratchDirectory(runId, "head"))
            {
                string file = scratch.File("head.safetensors");
                HeadFiles.Save(trained.Head, file);
                await workspace.Store.UploadFromFileAsync(layout.Head(input.Method), file, cancellationToken);
            }
            var result = new HeadResult(input.Method, layout.Head(input.Method), trained.Elapsed.TotalSeconds, finalLoss, trained.ReuseFactor);
            await workspace.Store.WriteJsonAsync(layout.HeadResult(input.Method), result, cancellationToken);
            return result;
        }
    }
}
