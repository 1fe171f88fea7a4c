using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FeatureAug.Core;
using FeatureAug.Core.Data;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Models;
using FeatureAug.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Bench;

/// <summary>One Phase-II configuration: a name and the FSA options it changes from the paper's.</summary>
internal sealed record Variant(string Name, Func<FsaOptions, FsaOptions> Apply, bool NeedsViews = false);

/// <summary>Val and test figures of one head.</summary>
internal sealed record Scores(double ValTop1, double Top1, double Head, double Tail, double? Many, double? Medium, double? Few);

/// <summary>
/// Fashion-MNIST-LT accuracy benchmark: per (IF, seed) Phase I is trained once on 80 % of every class (the other 20 %,
/// at least one image, is the validation split that chooses every method's settings and the Phase-II variants),
/// features are extracted once, and the baselines and every FSA variant are trained on them and scored on validation
/// and test.
/// </summary>
internal static class Accuracy
{
    public static async Task<int> RunAsync(Args args)
    {
        var imbalanceFactors = args.Doubles("imbalance-factors", [10, 50, 100, 200]);
        var seeds = args.Ints("seeds", [0, 1, 2]);
        string model = args.String("model", "resnet20");
        int epochs = args.Int("epochs", 30);
        string schedule = args.String("schedule", "step");
        int[] milestones = args.Ints("milestones", [20, 25]);
        int warmup = args.Int("warmup-epochs", 1);
        double lr = args.Double("lr", 0.1), weightDecay = args.Double("weight-decay", 2e-4);
        int batch = args.Int("batch-size", 128), cropPadding = args.Int("crop-padding", 2);
        int iterations = args.Int("finetune-iterations", 6400);
        double valFraction = args.Double("val-fraction", 0.2);
        bool sweep = args.Flag("sweep");
        string work = args.String("work", "bench/work");
        string output = args.String("output", "bench/results");
        string variantFilter = args.String("variants", "");
        // Results depend on the thread count (reductions split differently), so it is part of the protocol.
        int threads = args.Int("threads", 2);
        torch.set_num_threads(threads);
        // Where Phase I trains (cpu or cuda; part of the cache key unless cpu). A backbone trained on a GPU machine is
        // only loaded here; --phase1-only trains the backbones and stops, for a GPU machine that runs no Phase II.
        string phase1Device = args.String("phase1-device", "cpu").Trim().ToLowerInvariant();
        if (phase1Device is not ("cpu" or "cuda"))
            throw new ArgumentException($"--phase1-device must be cpu or cuda, not '{phase1Device}'.");
        bool phase1Only = args.Flag("phase1-only");

        var full = await new FashionMnist().LoadAsync();
        var paper = new FsaOptions { FineTuneIterations = iterations };
        var variants = Variants().Where(v => variantFilter.Length == 0 || variantFilter.Split(',').Contains(v.Name)).ToList();
        var resultsPath = Path.Combine(output, "fashion-mnist-lt-runs.json");
        // --append keeps the rows of earlier invocations (other IFs or seeds) and replaces those this one re-runs,
        // so one report can gather runs made one block at a time.
        var log = args.Flag("append") && File.Exists(resultsPath)
            ? AccuracyReport.ReadRuns(output).Where(r => !(imbalanceFactors.Contains((double)r["imbalanceFactor"]!) && seeds.Contains((int)(double)r["seed"]!))).ToList()
            : new List<Dictionary<string, object?>>();
        if (!phase1Only) Directory.CreateDirectory(output);

        foreach (double imbalance in imbalanceFactors)
        foreach (int seed in seeds)
        {
            var lt = LongTailed.Build(full.Train, imbalance, ImbalanceProfile.Exp);
            var (train, val) = ValidationSplit.Stratified(lt, valFraction, seed);
            var counts = train.ClassCounts();
            // Every Phase-I setting is in the cache key, so a cached backbone is never reused under another protocol.
            string settings = Invariant($"{schedule}|{string.Join(",", milestones)}|{warmup}|{lr}|{weightDecay}|{batch}|{cropPadding}|{valFraction}|{threads}")
                + (phase1Device == "cpu" ? "" : "|" + phase1Device);
            string key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(settings)))[..10];
            string dir = Path.Combine(work, Invariant($"if{imbalance}-{model}-e{epochs}-s{seed}-{key}"));
            Directory.CreateDirectory(dir);
            Console.WriteLine(Invariant($"IF {imbalance} seed {seed}: Phase I in {dir} ({settings})"));
            var net = ModelFactory.Create(model, 1, train.NumClasses);
            var normalization = Normalization.FromDataset(train);
            var training = new TrainingOptions
            {
                Epochs = epochs, BatchSize = batch, LearningRate = lr, WeightDecay = weightDecay, WarmupEpochs = warmup,
                Schedule = schedule == "step" ? LearningRateSchedule.Step : LearningRateSchedule.Cosine,
                Milestones = milestones, CropPadding = cropPadding, HorizontalFlip = true,
            };
            var checkpoints = new CheckpointOptions(Path.Combine(dir, "checkpoints"), keep: 1);
            var clock = Stopwatch.StartNew();
            bool cached = Checkpoint.FindLatest(checkpoints.Directory, epochs)?.Epoch == epochs;
            var trained = BackboneTraining.Train(net, train, normalization, training, seed, cached ? torch.CPU : DeviceSelection.Resolve(phase1Device), checkpoints);
            net.to(torch.CPU);
            Console.WriteLine(Invariant($"IF {imbalance} seed {seed}: Phase I to epoch {trained.FinalEpoch} in {clock.Elapsed.TotalSeconds:F0} s"));
            if (phase1Only)
            {
                net.Dispose();
                continue;
            }

            using var phaseOne = ClassifierHead.FromLinear(net.Classifier);
            using var valPooled = FeatureExtractor.ExtractPooled(net, val, normalization, 256, torch.CPU);
            // Every method's free settings (rates, iterations, tau) are chosen on validation by one rule (HeadSelection).
            using var validation = EvaluationFeatures.FromPooled(valPooled, val.Labels);
            using var testPooled = FeatureExtractor.ExtractPooled(net, full.Test, normalization, 256, torch.CPU);
            var extracted = new Dictionary<int, ExtractedFeatures>();
            ExtractedFeatures FeaturesWith(int views)
            {
                if (!extracted.TryGetValue(views, out var features))
                    extracted[views] = features = FeatureExtractor.Extract(net, train, normalization, 256, torch.CPU, views,
                        new AugmentationOptions(cropPadding, true), seed);
                return features;
            }

            var rows = new Dictionary<string, Scores>();
            Scores Score(ClassifierHead head, ClassSplit split) =>
                Evaluate(head, valPooled, val.Labels, testPooled, full.Test.Labels, counts, split);

            // Baselines, once, from the paper's options, each with its settings chosen on validation.
            var clean = FeaturesWith(0);
            var baselines = HeadMethods.All.Where(m => m != HeadMethod.Fsa).ToArray();
            AugmentationPlan basePlan;
            using (var run = FsaRun.Run(clean, phaseOne, paper, seed, baselines, validation))
            {
                basePlan = run.Plan;
                foreach (var method in baselines)
                    rows[method.Key()] = Score(run.Heads[method], basePlan.Split);
            }
            foreach (var variant in variants)
                rows[variant.Name] = RunFsa(FeaturesWith(variant.NeedsViews ? 2 : 0), phaseOne, variant.Apply(paper), seed, validation, Score);
            if (sweep && imbalance == 100 && seed == seeds[0])
                foreach (var (name, options) in SweepOptions(paper))
                    rows[name] = RunFsa(clean, phaseOne, options, seed, validation, Score);
            FusionDiagnostics.Write(clean, basePlan, paper, Path.Combine(output, Invariant($"fused-features-if{imbalance}-s{seed}")));

            foreach (var (name, s) in rows)
            {
                Console.WriteLine(Invariant($"  {name,-28} val {s.ValTop1:P2}  test {s.Top1:P2}  head {s.Head:P2}  tail {s.Tail:P2}"));
                log.Add(new() { ["imbalanceFactor"] = imbalance, ["seed"] = seed, ["method"] = name, ["valTop1"] = s.ValTop1,
                    ["top1"] = s.Top1, ["head"] = s.Head, ["tail"] = s.Tail, ["many"] = s.Many, ["medium"] = s.Medium, ["few"] = s.Few,
                    ["model"] = model, ["epochs"] = epochs, ["finetuneIterations"] = iterations });
            }
            foreach (var features in extracted.Values) features.Dispose();
            net.Dispose();
            await File.WriteAllTextAsync(resultsPath, JsonSerializer.Serialize(log, new JsonSerializerOptions { WriteIndented = true }));
        }
        if (phase1Only) return 0;
        AccuracyReport.Write(log, output, new Dictionary<string, object>
        {
            ["model"] = model, ["epochs"] = epochs, ["schedule"] = schedule, ["milestones"] = milestones, ["warmupEpochs"] = warmup,
            ["lr"] = lr, ["weightDecay"] = weightDecay, ["batchSize"] = batch, ["cropPadding"] = cropPadding,
            ["finetuneIterations"] = iterations, ["valFraction"] = valFraction, ["seeds"] = log.Select(r => Convert.ToInt32(r["seed"], CultureInfo.InvariantCulture)).Distinct().Order().ToArray(),
            ["imbalanceFactors"] = log.Select(r => Convert.ToDouble(r["imbalanceFactor"], CultureInfo.InvariantCulture)).Distinct().Order().ToArray(),
            ["threads"] = threads, ["phase1Device"] = phase1Device,
        });
        return 0;
    }

    /// <summary>The FSA variants tried; "fsa" is the paper. Each changes one or two things, named in the variant.</summary>
    public static IReadOnlyList<Variant> Variants() =>
    [
        new(HeadMethod.Fsa.Key(), o => o),
        new("fsa+headBalanced", o => o with { HeadSampling = GroupSampling.ClassBalanced }),
        new("fsa+matchNorm", o => o with { MatchFusedNorm = true }),
        new("fsa+matchNorm+headBalanced", o => o with { MatchFusedNorm = true, HeadSampling = GroupSampling.ClassBalanced }),
        new("fsa+confusingHeadOnly", o => o with { ConfusingHeadOnly = true }),
        new("fsa+tau0.6/0.4", o => o with { TauS = 0.6, TauG = 0.4 }),
        new("fsa+momentum0", o => o with { FineTuneMomentum = 0 }),
        new("fsa+iter1600", o => o with { FineTuneIterations = Math.Max(1, o.FineTuneIterations / 4) }),
        new("fsa+views2", o => o with { Views = 2 }, NeedsViews: true),
        new("fsa+balanced", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced }),
        new("fsa+balanced+matchNorm", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, MatchFusedNorm = true }),
        new("fsa+balanced+na1", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, Na = 1 }),
        new("fsa+balanced+matchNorm+na1", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, MatchFusedNorm = true, Na = 1 }),
        new("fsa+balanced+views2", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, Views = 2 }, NeedsViews: true),
        new("fsa+balanced+matchNorm+views2", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, MatchFusedNorm = true, Views = 2 }, NeedsViews: true),
        new("fsa+balanced+hr0.7", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, HeadRatio = 0.7 }),
        new("fsa+balanced+matchNorm+hr0.7", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, MatchFusedNorm = true, HeadRatio = 0.7 }),
        new("fsa+views2+matchNorm+headBalanced", o => o with { Views = 2, MatchFusedNorm = true, HeadSampling = GroupSampling.ClassBalanced }, NeedsViews: true),
        new("fsa+reject", o => o with { RejectAmbiguousFused = true }),
        new("fsa+balanced+reject", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, RejectAmbiguousFused = true }),
        new("fsa+balanced+na1+reject", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, Na = 1, RejectAmbiguousFused = true }),
        new("fsa+balanced+matchNorm+na1+reject", o => o with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced, MatchFusedNorm = true, Na = 1, RejectAmbiguousFused = true }),
    ];

    /// <summary>tau_s x tau_g grid (tau_g &lt;= tau_s) and h_r values, each alone against the paper's other options.</summary>
    public static IEnumerable<(string Name, FsaOptions Options)> SweepOptions(FsaOptions paper)
    {
        double[] taus = [0.5, 0.6, 0.7, 0.8, 0.9];
        double[] taug = [0.1, 0.2, 0.3, 0.4, 0.5];
        foreach (double s in taus)
        foreach (double g in taug)
            if (g <= s)
                yield return (Invariant($"sweep:tauS={s}:tauG={g}"), paper with { TauS = s, TauG = g });
        foreach (double h in new[] { 0.6, 0.7, 0.8, 0.9, 0.95 })
            yield return (Invariant($"sweep:hr={h}"), paper with { HeadRatio = h });
    }

    private static Scores RunFsa(
        ExtractedFeatures features, ClassifierHead phaseOne, FsaOptions options, int seed, EvaluationFeatures validation, Func<ClassifierHead, ClassSplit, Scores> score)
    {
        using var run = FsaRun.Run(features, phaseOne, options, seed, [HeadMethod.Fsa], validation);
        return score(run.Heads[HeadMethod.Fsa], run.Plan.Split);
    }

    private static Scores Evaluate(ClassifierHead head, Tensor valPooled, int[] valLabels, Tensor testPooled, int[] testLabels, int[] counts, ClassSplit split)
    {
        var val = ClassificationMetrics.Compute(head.Predict(valPooled), valLabels, counts, split.HeadClasses);
        var test = ClassificationMetrics.Compute(head.Predict(testPooled), testLabels, counts, split.HeadClasses);
        return new Scores(val.Top1, test.Top1, test.HeadTop1, test.TailTop1, test.Many, test.Medium, test.Few);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
