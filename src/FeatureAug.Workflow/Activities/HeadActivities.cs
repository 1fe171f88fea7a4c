using FeatureAug.Core.Data;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FeatureAug.Workflow;

/// <summary>Reads and writes classifier heads as safetensors with PyTorch's Linear names (weight, bias).</summary>
public static class HeadFiles
{
    public static string HeadPath(string runId, string method) => ArtifactPath.Combine(ArtifactPath.Run(runId), "heads", $"{method}.safetensors");

    public static string ResultPath(string runId, string method) => ArtifactPath.Combine(ArtifactPath.Run(runId), "heads", $"{method}.json");

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
public sealed class FineTuneHeadActivity(RunWorkspace workspace, ActivityExecutionLog executions)
    : FeatureAugActivity<FineTuneInput, HeadResult>(executions)
{
    protected override string RunIdOf(FineTuneInput input) => input.Request.RunId;

    protected override async Task<HeadResult?> TryReuseAsync(FineTuneInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<HeadResult>(HeadFiles.ResultPath(input.Request.RunId, input.Method), cancellationToken))?.Value;

    protected override async Task<HeadResult> ComputeAsync(FineTuneInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        string runId = request.RunId;
        var inputs = await workspace.Store.ReadJsonAsync<PlanInputs>(input.Plan.PlanInputsPath, cancellationToken);
        var plan = AugmentationPlan.Rebuild(inputs.ClassCounts, inputs.ConfusingClasses, request.Fsa, request.Execution.Seed);
        var reader = FeatureShardReader.Open(await workspace.GetLocalDirectoryAsync(ArtifactPath.RunFeatures(runId), cancellationToken));
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
            if (!float.IsFinite(finalLoss) || !torch.isfinite(trained.Head.Weight).all().item<bool>())
                throw new InvalidRunInputException($"Phase II of {HeadMethods.FromKey(input.Method).Display()} diverged (final loss {finalLoss}); lower --finetune-lr. No head was written.");
            string scratch = workspace.NewScratchDirectory(runId, "head");
            try
            {
                string file = Path.Combine(scratch, "head.safetensors");
                HeadFiles.Save(trained.Head, file);
                await workspace.Store.UploadFromFileAsync(HeadFiles.HeadPath(runId, input.Method), file, cancellationToken);
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
            var result = new HeadResult(input.Method, HeadFiles.HeadPath(runId, input.Method), trained.Elapsed.TotalSeconds, finalLoss, trained.ReuseFactor);
            await workspace.Store.WriteJsonAsync(HeadFiles.ResultPath(runId, input.Method), result, cancellationToken);
            return result;
        }
    }
}
