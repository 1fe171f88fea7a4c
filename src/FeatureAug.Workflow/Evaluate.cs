using System.Diagnostics;
using System.Globalization;
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

/// <summary>
/// What Evaluate measured and wrote. Top1/TailTop1: test figures per method; ValidationTop1: balanced validation
/// accuracy per method (empty without validation). Candidate: the method the run puts forward (exported as the model,
/// the challenger in promotion) and HeadPath its head.
/// </summary>
public sealed record EvaluateResult(
    string ReportPath, string MarkdownPath, IReadOnlyDictionary<string, double> Top1, IReadOnlyDictionary<string, double> TailTop1,
    string ModelPath, string HeadPath, string? ChampionRunId, double? ChampionTop1,
    string Candidate = "fsa", string CandidateReason = "", IReadOnlyDictionary<string, double>? ValidationTop1 = null,
    IReadOnlyDictionary<string, HeadConfiguration>? Configurations = null);

/// <summary>
/// Step 7: every method measured on the validation split and on the test set from the frozen backbone's pooled
/// features; the post-hoc heads (tau-norm, logit adjustment) made with tau chosen on validation; the run's candidate
/// head chosen (best on validation, or the method the request names); the final model (backbone + candidate head) as
/// one safetensors file; and the report (JSON, Markdown, plots). In Rebalance mode the champion is measured on the same
/// test data so the promotion compares like with like.
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
        var layout = new RunLayout(runId);
        var device = DeviceSelection.Prepare(request.Execution.Device, request.Execution.Threads);
        var data = await workspace.LoadRunDataAsync(request, cancellationToken);
        var normalization = new Normalization(input.Dataset.Mean, input.Dataset.Std);
        using var model = await BackboneLoader.LoadAsync(workspace, input.Backbone, input.Dataset.Channels, input.Dataset.Classes.Count, cancellationToken);
        using var test = EvaluationFeatures.Extract(model, data.Test, normalization, request.Training.BatchSize, device);
        using var validation = input.Dataset.HasValidation
            ? EvaluationFeatures.Load(await workspace.GetLocalCopyAsync(layout.ValidationFeatures, cancellationToken))
            : null;
        var trainCounts = input.Dataset.TrainCounts;
        var headClasses = input.Plan.HeadClasses;

        var heads = new Dictionary<HeadMethod, ClassifierHead>();
        var configurations = new Dictionary<HeadMethod, HeadConfiguration>();
        try
        {
            using var phaseOne = ClassifierHead.FromLinear(model.Classifier);
            heads[HeadMethod.CrossEntropy] = phaseOne.Clone();
            foreach (var trained in input.Heads)
            {
                var method = HeadMethods.FromKey(trained.Method);
                heads[method] = ClassifierHead.Load(await workspace.GetLocalCopyAsync(trained.Path, cancellationToken));
                if (trained.Configuration is { } configuration) configurations[method] = configuration;
            }
            foreach (var method in HeadMethods.PostHoc)
            {
                var selected = FsaRun.PostHoc(method, phaseOne, trainCounts, request.Fsa, validation);
                heads[method] = selected.Head;
                configurations[method] = selected.Configuration;
            }

            var scores = new Dictionary<HeadMethod, MethodScores>();
            foreach (var method in HeadMethods.All.Where(heads.ContainsKey))
            {
                var validationMetrics = validation?.Measure(heads[method], trainCounts, headClasses);
                var configuration = configurations.GetValueOrDefault(method) ?? new HeadConfiguration(null, null, null, validationMetrics?.Top1, []);
                scores[method] = new MethodScores(test.Measure(heads[method], trainCounts, headClasses), validationMetrics, configuration);
            }
            var (candidate, chosenBy, reason) = ChooseCandidate(request.Execution.Promote, scores);

            // The champion on today's held-out data, when it sits on this very backbone (Rebalance mode).
            ChampionPointer? champion = request.ModelName.Length > 0 ? await registry.GetChampionAsync(request.ModelName, cancellationToken) : null;
            double? championTop1 = null;
            if (champion is not null && champion.BackbonePath == input.Backbone.CheckpointPath && champion.RunId != runId)
            {
                using var championHead = ClassifierHead.Load(await workspace.GetLocalCopyAsync(champion.HeadPath, cancellationToken));
                championTop1 = test.Measure(championHead, trainCounts, headClasses).Top1;
            }

            using var scratch = workspace.NewScratchDirectory(runId, "evaluate");
            // Heads made here (CE and the post-hoc ones) are stored beside the trained ones, so any can be promoted.
            foreach (var method in new[] { HeadMethod.CrossEntropy }.Concat(HeadMethods.PostHoc))
            {
                string headFile = scratch.File(method.Key() + ".safetensors");
                heads[method].Save(headFile);
                await workspace.Store.UploadFromFileAsync(layout.Head(method.Key()), headFile, cancellationToken);
                File.Delete(headFile);
            }
            // The final model: frozen backbone with the candidate head (post-hoc adjustments already in its bias), PyTorch names, one file.
            string modelFile = scratch.File("model.safetensors");
            BackboneFiles.SaveWithHead(model, heads[candidate], modelFile);
            await workspace.Store.UploadFromFileAsync(layout.Model, modelFile, cancellationToken);
            File.Delete(modelFile);

            var report = BuildReport(input, scores, new CandidateSection(candidate.Key(), chosenBy, reason), stopwatch.Elapsed.TotalSeconds);
            await File.WriteAllTextAsync(scratch.File("report.json"), report.ToJson(), cancellationToken);
            await File.WriteAllTextAsync(scratch.File("report.md"), MarkdownReport.Render(report), cancellationToken);
            ReportPlots.ClassDistribution(report, scratch.File("class-distribution.png"));
            ReportPlots.PerClassAccuracy(report, scratch.File("per-class-accuracy.png"));
            await WriteFeaturePcaAsync(input, scratch.File("feature-pca.png"), cancellationToken);
            await workspace.PublishDirectoryAsync(scratch.Path, layout.Reports, cancellationToken);

            var result = new EvaluateResult(
                layout.ReportJson, layout.ReportMarkdown,
                scores.ToDictionary(kv => kv.Key.Key(), kv => kv.Value.Test.Top1), scores.ToDictionary(kv => kv.Key.Key(), kv => kv.Value.Test.TailTop1),
                layout.Model, layout.Head(candidate.Key()),
                championTop1 is null ? null : champion!.RunId, championTop1,
                candidate.Key(), reason,
                scores.Where(kv => kv.Value.Validation is not null).ToDictionary(kv => kv.Key.Key(), kv => kv.Value.Validation!.Top1),
                scores.Where(kv => kv.Value.Configuration is not null).ToDictionary(kv => kv.Key.Key(), kv => kv.Value.Configuration!));
            await workspace.Store.WriteJsonAsync(layout.Evaluation, result, cancellationToken);
            return result;
        }
        finally
        {
            foreach (var head in heads.Values) head.Dispose();
        }
    }

    /// <summary>
    /// The head the run puts forward: with "best", the best balanced accuracy on validation among every method (ties to
    /// the earlier method in report order); otherwise the method named. The reason is a sentence for the report.
    /// </summary>
    internal static (HeadMethod Method, string ChosenBy, string Reason) ChooseCandidate(string promote, IReadOnlyDictionary<HeadMethod, MethodScores> scores)
    {
        static string Percent(double value) => (value * 100).ToString("F2", CultureInfo.InvariantCulture) + " %";
        if (promote != ExecutionSettings.PromoteBest)
        {
            var named = HeadMethods.FromKey(promote);
            return (named, "request", $"{named.Display()} was named by the run's promote setting.");
        }
        var validationTop1 = scores.ToDictionary(kv => kv.Key, kv => kv.Value.Validation?.Top1);
        var best = HeadSelection.Best(validationTop1);
        var runnerUp = scores.Where(kv => kv.Key != best && kv.Value.Validation is not null)
            .OrderByDescending(kv => kv.Value.Validation!.Top1).Select(kv => (HeadMethod?)kv.Key).FirstOrDefault();
        string next = runnerUp is { } other ? $"; next {other.Display()} {Percent(scores[other].Validation!.Top1)}" : "";
        return (best, "validation", $"{best.Display()} has the best balanced accuracy on the validation split, {Percent(scores[best].Validation!.Top1)}{next}.");
    }

    private static RunReport BuildReport(EvaluateInput input, IReadOnlyDictionary<HeadMethod, MethodScores> methods, CandidateSection candidate, double evaluateSeconds)
    {
        var request = input.Request;
        var dataset = input.Dataset;
        int epochs = request.Mode == RunMode.Full ? request.Training.Epochs : input.Backbone.Epochs;
        return RunReport.Create(
            request.RunId,
            new DatasetSection(dataset.Name, dataset.Classes, dataset.TrainCounts, dataset.TestCounts)
            {
                ValidationCounts = dataset.ValidationCounts, ValidationSource = dataset.ValidationSource,
            },
            new ModelSection(request.Architecture, ModelFactory.ParameterCount(request.Architecture, dataset.Channels, dataset.Classes.Count),
                epochs, request.Execution.Device),
            new SplitSection(input.Plan.HeadClasses, Enumerable.Range(0, dataset.Classes.Count).Except(input.Plan.HeadClasses).ToArray(), request.Fsa.HeadRatio),
            input.Plan.ConfusingClasses,
            input.Fused.ToDictionary(f => f.TailClass, f => f.Fused),
            input.Heads.FirstOrDefault(h => h.Method == HeadMethod.Fsa.Key())?.ReuseFactor,
            input.Fused.Sum(f => f.Fallbacks),
            request.Fsa,
            methods.ToDictionary(kv => kv.Key.Key(), kv => kv.Value),
            new Dictionary<string, double>
            {
                ["phase1Seconds"] = input.Timings.Phase1Seconds,
                ["extractSeconds"] = input.Timings.ExtractSeconds,
                ["fuseSeconds"] = input.Timings.FuseSeconds,
                ["fineTuneSeconds"] = input.Timings.FineTuneSeconds,
                ["evaluateSeconds"] = evaluateSeconds,
            },
            candidate,
            input.Plan.Adaptations);
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
