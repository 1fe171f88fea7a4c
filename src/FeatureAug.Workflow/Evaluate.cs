using System.Diagnostics;
using System.Globalization;
using FeatureAug.Core.Data;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FeatureAug.Workflow;

public sealed record EvaluateInput(
    RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, AugmentationPlan Plan,
    IReadOnlyList<FuseResult> Fused, IReadOnlyList<HeadResult> Heads, StageTimings Timings, int ShardCount);

public sealed record StageTimings(double Phase1Seconds, double ExtractSeconds, double FuseSeconds, double FineTuneSeconds);

public sealed record EvaluateResult(
    string ReportPath, string MarkdownPath, IReadOnlyDictionary<string, double> Top1, IReadOnlyDictionary<string, double> TailTop1,
    string ModelPath, string HeadPath, string? ChampionRunId, double? ChampionTop1);

/// <summary>
/// Step 7: test accuracy of every method on the frozen backbone's test features, the final model
/// (backbone + FSA head) as one safetensors file, and the report (JSON, Markdown, plots). In Rebalance
/// mode the champion is measured on the same test data so the promotion compares like with like.
/// </summary>
public sealed class EvaluateActivity(RunWorkspace workspace, ModelRegistry registry, StageServices services)
    : FeatureAugActivity<EvaluateInput, EvaluateResult>(services)
{
    private const int PcaSamplesPerCloud = 400;

    protected override string RunIdOf(EvaluateInput input) => input.Request.RunId;

    protected override async Task<EvaluateResult?> TryReuseAsync(EvaluateInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<EvaluateResult>(new RunLayout(input.Request.RunId).Evaluation, cancellationToken))?.Value;

    protected override async Task<EvaluateResult> ComputeAsync(EvaluateInput input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var request = input.Request;
        string runId = request.RunId;
        var device = PrepareDevice(request.Execution);
        var split = await workspace.LoadDatasetAsync(request.Dataset, cancellationToken);
        var normalization = new Normalization(input.Dataset.Mean, input.Dataset.Std);
        using var model = await BackboneLoader.LoadAsync(workspace, input.Backbone, input.Dataset.Channels, input.Dataset.Classes.Count, cancellationToken);
        using var testPooled = FeatureExtractor.ExtractPooled(model, split.Test, normalization, request.Training.BatchSize, device);
        var testLabels = split.Test.Labels;
        var trainCounts = input.Dataset.TrainCounts;
        var headClasses = input.Plan.HeadClasses;

        var heads = new Dictionary<string, ClassifierHead>();
        try
        {
            heads[MethodNames.CrossEntropy] = ClassifierHead.FromLinear(model.Classifier);
            foreach (var trained in input.Heads)
                heads[trained.Method] = HeadFiles.Load(await workspace.GetLocalCopyAsync(trained.Path, cancellationToken));
            heads[MethodNames.TauNormalisation] = PhaseTwo.TauNormalized(heads[MethodNames.CrossEntropy], request.Fsa.TauNorm);

            var methods = MethodNames.All.Where(heads.ContainsKey)
                .ToDictionary(m => m, m => ClassificationMetrics.Compute(heads[m].Predict(testPooled), testLabels, trainCounts, headClasses));

            // The champion on today's held-out data, when it sits on this very backbone (Rebalance mode).
            ChampionPointer? champion = request.ModelName.Length > 0 ? await registry.GetChampionAsync(request.ModelName, cancellationToken) : null;
            double? championTop1 = null;
            if (champion is not null && champion.BackbonePath == input.Backbone.CheckpointPath && champion.RunId != runId)
            {
                using var championHead = HeadFiles.Load(await workspace.GetLocalCopyAsync(champion.HeadPath, cancellationToken));
                championTop1 = ClassificationMetrics.Compute(championHead.Predict(testPooled), testLabels, trainCounts, headClasses).Top1;
            }

            var layout = new RunLayout(runId);
            using var scratch = workspace.NewScratchDirectory(runId, "evaluate");
            {
                // The final model: frozen backbone with the FSA head, PyTorch names, one file.
                heads[MethodNames.FeatureSpaceAugmentation].CopyInto(model.Classifier);
                string modelFile = scratch.File("model.safetensors");
                model.save_safetensors(modelFile);
                await workspace.Store.UploadFromFileAsync(layout.Model, modelFile, cancellationToken);

                var report = BuildReport(input, split, methods, stopwatch.Elapsed.TotalSeconds);
                await File.WriteAllTextAsync(scratch.File("report.json"), report.ToJson(), cancellationToken);
                await File.WriteAllTextAsync(scratch.File("report.md"), MarkdownReport.Render(report), cancellationToken);
                ReportPlots.ClassDistribution(report, scratch.File("class-distribution.png"));
                ReportPlots.PerClassAccuracy(report, scratch.File("per-class-accuracy.png"));
                await WriteFeaturePcaAsync(input, scratch.File("feature-pca.png"), cancellationToken);
                File.Delete(modelFile);
                await workspace.PublishDirectoryAsync(scratch.Path, layout.Reports, cancellationToken);

                var result = new EvaluateResult(
                    layout.ReportJson, layout.ReportMarkdown,
                    methods.ToDictionary(kv => kv.Key, kv => kv.Value.Top1), methods.ToDictionary(kv => kv.Key, kv => kv.Value.TailTop1),
                    layout.Model, layout.Head(MethodNames.FeatureSpaceAugmentation),
                    championTop1 is null ? null : champion!.RunId, championTop1);
                await workspace.Store.WriteJsonAsync(layout.Evaluation, result, cancellationToken);
                return result;
            }
        }
        finally
        {
            foreach (var head in heads.Values) head.Dispose();
        }
    }

    private static RunReport BuildReport(EvaluateInput input, DatasetSplit split, IReadOnlyDictionary<string, ClassificationMetrics> methods, double evaluateSeconds)
    {
        var request = input.Request;
        var fsaHead = input.Heads.FirstOrDefault(h => h.Method == MethodNames.FeatureSpaceAugmentation);
        var warnings = new List<string>();
        if (fsaHead is not null && fsaHead.ReuseFactor > 1.0)
            warnings.Add($"Fused features were reused (reuse factor {fsaHead.ReuseFactor:F2} > 1): the banks are smaller than Phase II draws.");
        int fallbacks = input.Fused.Sum(f => f.Fallbacks);
        if (fallbacks > 0)
            warnings.Add($"{fallbacks} fused slots fell back to real tail features (no class-specific or class-generic vectors at tau_s {request.Fsa.TauS}, tau_g {request.Fsa.TauG}).");
        string Key(int c) => c.ToString(CultureInfo.InvariantCulture);
        return new RunReport
        {
            RunId = request.RunId,
            Dataset = new DatasetSection(input.Dataset.Name, input.Dataset.Classes, input.Dataset.TrainCounts, input.Dataset.TestCounts),
            Model = new ModelSection(request.Architecture, ParameterCount(request, input.Dataset), request.Mode == RunMode.Full ? request.Training.Epochs : input.Backbone.Epochs, request.Execution.Device),
            Split = new SplitSection(input.Plan.HeadClasses, Enumerable.Range(0, input.Dataset.Classes.Count).Except(input.Plan.HeadClasses).ToArray(), request.Fsa.HeadRatio),
            ConfusingClasses = input.Plan.ConfusingClasses.ToDictionary(kv => Key(kv.Key), kv => kv.Value),
            Fusion = new FusionSection(input.Fused.ToDictionary(f => Key(f.TailClass), f => f.Fused), fsaHead?.ReuseFactor ?? 0, fallbacks),
            Methods = methods.ToDictionary(kv => kv.Key, kv => MethodResult.From(kv.Value)),
            Timings = new Dictionary<string, double>
            {
                ["phase1Seconds"] = input.Timings.Phase1Seconds,
                ["extractSeconds"] = input.Timings.ExtractSeconds,
                ["fuseSeconds"] = input.Timings.FuseSeconds,
                ["fineTuneSeconds"] = input.Timings.FineTuneSeconds,
                ["evaluateSeconds"] = evaluateSeconds,
            },
            Warnings = warnings,
        };
    }

    private static long ParameterCount(RunRequest request, DatasetSummary dataset)
    {
        using var model = Core.Models.ModelFactory.Create(request.Architecture, dataset.Channels, dataset.Classes.Count);
        return model.parameters().Sum(p => p.numel());
    }

    /// <summary>PCA of the rarest tail class: its real pooled features, its fused ones, and its most confusing class.</summary>
    private async Task WriteFeaturePcaAsync(EvaluateInput input, string file, CancellationToken cancellationToken)
    {
        if (input.Fused.Count == 0) return;
        int tail = input.Fused.OrderBy(f => input.Dataset.TrainCounts[f.TailClass]).First().TailClass;
        int confusing = input.Plan.ConfusingClasses[tail][0];
        string prefix = new RunLayout(input.Request.RunId).Features;
        var reader = FeatureShardReader.Open(await workspace.GetLocalDirectoryAsync(prefix, cancellationToken));
        using var tailFeatures = reader.ReadClass(tail);
        using var confusingFeatures = reader.ReadClass(confusing);
        using var bank = FeatureShardReader.ReadBank(await workspace.GetLocalCopyAsync(input.Fused.Single(f => f.TailClass == tail).Path, cancellationToken));
        var names = input.Dataset.Classes;
        var random = new Random(input.Request.Fsa.Seed);
        ReportPlots.FeaturePca(new[]
        {
            new FeatureCloud($"real {names[tail]}", Sample(tailFeatures.Pooled.select(1, 0), random)),
            new FeatureCloud($"fused {names[tail]}", Sample(bank.Features, random)),
            new FeatureCloud($"real {names[confusing]} (confusing)", Sample(confusingFeatures.Pooled.select(1, 0), random)),
        }, $"Pooled features of tail class {names[tail]}: real vs fused (PCA)", file);
    }

    private static float[,] Sample(Tensor rows, Random random)
    {
        int n = (int)rows.shape[0], k = (int)rows.shape[1];
        var chosen = Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(PcaSamplesPerCloud).ToArray();
        var data = rows.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        var result = new float[chosen.Length, k];
        for (int i = 0; i < chosen.Length; i++)
            for (int j = 0; j < k; j++) result[i, j] = data[chosen[i] * k + j];
        return result;
    }
}
