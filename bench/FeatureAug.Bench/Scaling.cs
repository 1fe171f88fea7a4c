using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Storage;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Bench;

/// <summary>
/// Synthetic long-tailed features for growing class counts through the Core functions the workflow's activities call:
/// <see cref="AugmentationPlan.Create"/> (PlanAugmentation), <see cref="FeatureFusion.FuseTailClass"/> once per tail class
/// (the fan-out) and <see cref="HeadFineTuning.TrainFsa"/> (FineTuneHead). Wall time per stage, per tail class, and peak
/// memory. Feature maps are small (K x 2 x 2) so that 10,000 classes fit; softmax scores are a zero-stride view
/// (the plan reads class means, given directly).
/// </summary>
internal static class Scaling
{
    public static async Task<int> RunAsync(Args args)
    {
        int[] classCounts = args.Ints("classes", [100, 1000, 10000]);
        int nMax = args.Int("n-max", 40), channels = args.Int("channels", 32), iterations = args.Int("finetune-iterations", 200);
        double imbalance = args.Double("imbalance-factor", 20);
        string output = args.String("output", "bench/results");
        torch.set_num_threads(args.Int("threads", 2));
        var rows = new List<Dictionary<string, object>>();
        foreach (int classes in classCounts)
        {
            var row = Measure(classes, nMax, imbalance, channels, iterations);
            Console.WriteLine(JsonSerializer.Serialize(row));
            rows.Add(row);
        }
        var fanOuts = args.Ints("orchestration-fan-outs", rows.Select(r => (int)r["tailClasses"]).ToArray());
        // One activity per item costs ~250 ms each here: the per-item comparison stops at 1,000 items (~4 minutes).
        var orchestration = args.Flag("skip-orchestration") ? new List<Dictionary<string, object>>()
            : await Orchestration.MeasureAsync(fanOuts, args.Int("fuse-activities", new ExecutionSettings().FuseActivities), args.Int("per-item-up-to", 1000));
        Write(rows, orchestration, output, nMax, imbalance, channels, iterations);
        return 0;
    }

    private static Dictionary<string, object> Measure(int classes, int nMax, double imbalance, int channels, int iterations)
    {
        const int side = 2;
        int[] counts = LongTailed.Counts(nMax, classes, imbalance, ImbalanceProfile.Exp);
        var generator = new torch.Generator(7);
        var features = new List<ClassFeatures>();
        int offset = 0;
        for (int c = 0; c < classes; c++)
        {
            using var scope = torch.NewDisposeScope();
            int n = counts[c];
            var vectors = torch.rand(new long[] { n, 1, side * side, channels }, generator: generator);
            var cams = torch.rand(new long[] { n, 1, side * side }, generator: generator);
            features.Add(new ClassFeatures(c, Enumerable.Range(offset, n).ToArray(), vectors.mean(new long[] { 2 }), vectors, cams,
                torch.zeros(1, classes).expand(n, classes), side, side));
            offset += n;
        }
        using var extracted = new ExtractedFeatures(features);
        var random = new Random(3);
        var meanScores = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, classes).Select(_ => random.NextDouble()).ToArray()).ToArray();
        using var phaseOne = new ClassifierHead(torch.randn(classes, channels, generator: generator) * 0.1, torch.zeros(classes));
        var options = new FsaOptions { FineTuneIterations = iterations, TauS = 0.6, TauG = 0.4 };
        GC.Collect();

        var clock = Stopwatch.StartNew();
        var plan = AugmentationPlan.Create(extracted.ClassCounts(), meanScores, options, seed: 0);
        double planSeconds = clock.Elapsed.TotalSeconds;
        var (oldInputBytes, oldRebuildSeconds) = RebuildFromMeanScores(counts, meanScores, options, measureTime: classes <= 1000);
        meanScores = null;
        // What every step after planning reads to rebuild the plan now: class counts and ranked confusing classes.
        byte[] planInputs = JsonSerializer.SerializeToUtf8Bytes(
            new PlanInputs(counts, plan.ConfusingClasses.ToDictionary(kv => kv.Key, kv => kv.Value)), ArtifactStoreJson.SerializerOptions);
        clock.Restart();
        var read = JsonSerializer.Deserialize<PlanInputs>(planInputs, ArtifactStoreJson.SerializerOptions)!;
        var rebuilt = AugmentationPlan.Rebuild(read.ClassCounts, read.ConfusingClasses, options, seed: 0);
        double rebuildSeconds = clock.Elapsed.TotalSeconds;
        if (!rebuilt.TailDrawSamples.SequenceEqual(plan.TailDrawSamples))
            throw new InvalidOperationException("The rebuilt plan differs from the ranked one.");
        clock.Restart();
        var banks = FeatureFusion.FuseAll(plan, extracted);
        double fuseSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        using (var pooled = extracted.Pooled())
        using (HeadFineTuning.TrainFsa(pooled, plan, banks, phaseOne)) { }
        double fineTuneSeconds = clock.Elapsed.TotalSeconds;
        foreach (var bank in banks) bank.Dispose();
        int tail = plan.Split.TailClasses.Length;
        return new Dictionary<string, object>
        {
            ["classes"] = classes, ["tailClasses"] = tail, ["trainSamples"] = counts.Sum(),
            ["planSeconds"] = planSeconds, ["fuseSeconds"] = fuseSeconds, ["fineTuneSeconds"] = fineTuneSeconds,
            ["fuseMillisecondsPerTailClass"] = 1000 * fuseSeconds / Math.Max(1, tail),
            ["planMicrosecondsPerTailClass"] = 1e6 * planSeconds / Math.Max(1, tail),
            ["planInputsBytes"] = planInputs.Length, ["planRebuildSeconds"] = rebuildSeconds,
            ["meanScoresPlanInputsBytes"] = oldInputBytes, ["meanScoresPlanRebuildSeconds"] = oldRebuildSeconds!,
            ["peakWorkingSetMiB"] = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0),
        };
    }

    /// <summary>
    /// The plan inputs every step after planning read before: class counts and the C x C mean scores as a JSON
    /// document. Size (measured exactly below 1,000 classes; above, one row's size times C, the rows being alike) and,
    /// where it fits in memory comfortably, the time to read it and rank the plan again.
    /// </summary>
    private static (long Bytes, double? Seconds) RebuildFromMeanScores(int[] counts, double[][] meanScores, FsaOptions options, bool measureTime)
    {
        if (!measureTime)
        {
            long rowBytes = JsonSerializer.SerializeToUtf8Bytes(meanScores[0], ArtifactStoreJson.SerializerOptions).Length;
            return (rowBytes * meanScores.Length, null);
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new { ClassCounts = counts, MeanScores = meanScores }, ArtifactStoreJson.SerializerOptions);
        var clock = Stopwatch.StartNew();
        using var document = JsonDocument.Parse(json);
        var scores = document.RootElement.GetProperty("meanScores").Deserialize<double[][]>(ArtifactStoreJson.SerializerOptions)!;
        AugmentationPlan.Create(counts, scores, options, seed: 0);
        return (json.Length, clock.Elapsed.TotalSeconds);
    }

    private static void Write(List<Dictionary<string, object>> rows, List<Dictionary<string, object>> orchestration, string output, int nMax, double imbalance, int channels, int iterations)
    {
        Directory.CreateDirectory(output);
        var md = new StringBuilder();
        md.AppendLine("| classes | tail classes | samples | plan (s) | plan per tail class (µs) | fuse fan-out (s) | fuse per tail class (ms) | fine-tune (s) | peak working set (MiB, process so far) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r["classes"]} | {r["tailClasses"]} | {r["trainSamples"]} | {(double)r["planSeconds"]:F3} | {(double)r["planMicrosecondsPerTailClass"]:F1} | {(double)r["fuseSeconds"]:F2} | {(double)r["fuseMillisecondsPerTailClass"]:F2} | {(double)r["fineTuneSeconds"]:F2} | {(double)r["peakWorkingSetMiB"]:F0} |"));
        md.AppendLine();
        md.AppendLine("| classes | plan inputs, C x C mean scores (MiB) | read + re-rank (s) | plan inputs, ranked confusing classes (KiB) | read + rebuild (ms) |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var r in rows)
        {
            var oldSeconds = r["meanScoresPlanRebuildSeconds"] as double?;
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r["classes"]} | {(long)r["meanScoresPlanInputsBytes"] / 1048576.0:F1} | {(oldSeconds is double seconds ? seconds.ToString("F2", CultureInfo.InvariantCulture) : "not measured")} | {(int)r["planInputsBytes"] / 1024.0:F1} | {1000 * (double)r["planRebuildSeconds"]:F1} |"));
        }
        md.AppendLine();
        md.AppendLine("| work items (tail classes) | activities | wall (s) | per item (ms) | per activity (ms) |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var r in orchestration)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r["items"]} | {r["activities"]} | {(double)r["seconds"]:F2} | {(double)r["millisecondsPerItem"]:F2} | {(double)r["millisecondsPerActivity"]:F1} |"));
        File.WriteAllText(Path.Combine(output, "scaling-table.md"), md.ToString());
        File.WriteAllText(Path.Combine(output, "scaling.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["setup"] = new Dictionary<string, object> { ["nMax"] = nMax, ["imbalanceFactor"] = imbalance, ["channels"] = channels, ["map"] = "2x2", ["finetuneIterations"] = iterations },
            ["rows"] = rows,
            ["orchestration"] = orchestration,
        }, new JsonSerializerOptions { WriteIndented = true }));
    }
}
