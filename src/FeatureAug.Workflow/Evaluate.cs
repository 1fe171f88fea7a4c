using System.Diagnostics;
using FeatureAug.Core;
using FeatureAug.Core.Data;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Models;
using FeatureAug.Core.Reporting;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

public sealed record EvaluateInput(
    RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, PlannedAugmentation Plan,
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
    : StageActivity<EvaluateInput, EvaluateResult>(services)
{
    protected override string RunIdOf(EvaluateInput input) => input.Request.RunId;

    protected override async Task<EvaluateResult?> TryReuseAsync(EvaluateInput input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<EvaluateResult>(new RunLayout(input.Request.RunId).Evaluation, cancellationToken))?.Value;

    protected override async Task<EvaluateResult> ComputeAsync(EvaluateInput input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var request = input.Request;
        string runId = request.RunId;
        var device = DeviceSelection.Prepare(request.Execution.Device, request.Execution.Threads);
        var split = await workspace.LoadDatasetAsync(request.Dataset, cancellationToken);
        var normalization = new Normalization(input.Dataset.Mean, input.Dataset.Std);
        using var model = await BackboneLoader.LoadAsync(workspace, input.Backbone, input.Dataset.Channels, input.Dataset.Classes.Count, cancellationToken);
        using var test = TestFeatures.Extract(model, split.Test, normalization, request.Training.BatchSize, device);
        var trainCounts = input.Dataset.TrainCounts;
        var headClasses = input.Plan.HeadClasses;

        var heads = new Dictionary<string, ClassifierHead>();
        try
        {
            heads[HeadMethod.CrossEntropy.Key()] = ClassifierHead.FromLinear(model.Classifier);
            foreach (var trained in input.Heads)
                heads[trained.Method] = ClassifierHead.Load(await workspace.GetLocalCopyAsync(trained.Path, cancellationToken));
            heads[HeadMethod.TauNorm.Key()] = HeadFineTuning.TauNormalized(heads[HeadMethod.CrossEntropy.Key()], request.Fsa.TauNorm);
            var methods = HeadMethods.Keys.Where(heads.ContainsKey).ToDictionary(m => m, m => test.Measure(heads[m], trainCounts, headClasses));

            // The champion on today's held-out data, when it sits on this very backbone (Rebalance mode).
            ChampionPointer? champion = request.ModelName.Length > 0 ? await registry.GetChampionAsync(request.ModelName, cancellationToken) : null;
            double? championTop1 = null;
            if (champion is not null && champion.BackbonePath == input.Backbone.CheckpointPath && champion.RunId != runId)
            {
                using var championHead = ClassifierHead.Load(await workspace.GetLocalCopyAsync(champion.HeadPath, cancellationToken));
                championTop1 = test.Measure(championHead, trainCounts, headClasses).Top1;
            }

            var layout = new RunLayout(runId);
            using var scratch = workspace.NewScratchDirectory(runId, "evaluate");
            // The final model: frozen backbone with the FSA head, PyTorch names, one file.
            string modelFile = scratch.File("model.safetensors");
            BackboneFiles.SaveWithHead(model, heads[HeadMethod.Fsa.Key()], modelFile);
            await workspace.Store.UploadFromFileAsync(layout.Model, modelFile, cancellationToken);
            File.Delete(modelFile);

            var report = BuildReport(input, methods, stopwatch.Elapsed.TotalSeconds);
            await File.WriteAllTextAsync(scratch.File("report.json"), report.ToJson(), cancellationToken);
            await File.WriteAllTextAsync(scratch.File("report.md"), MarkdownReport.Render(report), cancellationToken);
            ReportPlots.ClassDistribution(report, scratch.File("class-distribution.png"));
            ReportPlots.PerClassAccuracy(report, scratch.File("per-class-accuracy.png"));
            await WriteFeaturePcaAsync(input, scratch.File("feature-pca.png"), cancellationToken);
            await workspace.PublishDirectoryAsync(scratch.Path, layout.Reports, cancellationToken);

            var result = new EvaluateResult(
                layout.ReportJson, layout.ReportMarkdown,
                methods.ToDictionary(kv => kv.Key, kv => kv.Value.Top1), methods.ToDictionary(kv => kv.Key, kv => kv.Value.TailTop1),
                layout.Model, layout.Head(HeadMethod.Fsa.Key()),
                championTop1 is null ? null : champion!.RunId, championTop1);
            await workspace.Store.WriteJsonAsync(layout.Evaluation, result, cancellationToken);
            return result;
        }
        finally
        {
            foreach (var head in heads.Values) head.Dispose();
        }
    }

    private static RunReport BuildReport(EvaluateInput input, IReadOnlyDictionary<string, ClassificationMetrics> methods, double evaluateSeconds)
    {
        var request = input.Request;
        var dataset = input.Dataset;
        int epochs = request.Mode == RunMode.Full ? request.Training.Epochs : input.Backbone.Epochs;
        return RunReport.Create(
            request.RunId,
            new DatasetSection(dataset.Name, dataset.Classes, dataset.TrainCounts, dataset.TestCounts),
            new ModelSection(request.Architecture, ModelFactory.ParameterCount(request.Architecture, dataset.Channels, dataset.Classes.Count),
                epochs, request.Execution.Device),
            new SplitSection(input.Plan.HeadClasses, Enumerable.Range(0, dataset.Classes.Count).Except(input.Plan.HeadClasses).ToArray(), request.Fsa.HeadRatio),
            input.Plan.ConfusingClasses,
            input.Fused.ToDictionary(f => f.TailClass, f => f.Fused),
            input.Heads.FirstOrDefault(h => h.Method == HeadMethod.Fsa.Key())?.ReuseFactor,
            input.Fused.Sum(f => f.Fallbacks),
            request.Fsa,
            methods,
            new Dictionary<string, double>
            {
                ["phase1Seconds"] = input.Timings.Phase1Seconds,
                ["extractSeconds"] = input.Timings.ExtractSeconds,
                ["fuseSeconds"] = input.Timings.FuseSeconds,
                ["fineTuneSeconds"] = input.Timings.FineTuneSeconds,
                ["evaluateSeconds"] = evaluateSeconds,
            });
    }

    /// <summary>PCA of the rarest tail class: its real pooled features, its fused ones, and its most confusing class.</summary>
    private async Task WriteFeaturePcaAsync(EvaluateInput input, string file, CancellationToken cancellationToken)
    {
        if (input.Fused.Count == 0) return;
        int tail = input.Fused.OrderBy(f => input.Dataset.TrainCounts[f.TailClass]).First().TailClass;
        int confusing = input.Plan.ConfusingClasses[tail][0];
        var reader = FeatureShardReader.Open(await workspace.GetLocalDirectoryAsync(new RunLayout(input.Request.RunId).Features, cancellationToken));
        using var tailFeatures = reader.ReadClass(tail);
        using var confusingFeatures = reader.ReadClass(confusing);
        using var bank = FeatureShardReader.ReadBank(await workspace.GetLocalCopyAsync(input.Fused.Single(f => f.TailClass == tail).Path, cancellationToken));
        var names = input.Dataset.Classes;
        ReportPlots.TailFeaturePca(tailFeatures, bank, confusingFeatures, names[tail], names[confusing], input.Request.Execution.Seed, file);
    }
}
