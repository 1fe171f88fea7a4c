using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Bench;

/// <summary>
/// Synthetic long-tailed features for growing class counts through the Core functions the workflow's activities call:
/// <see cref="FsaPlan.Create"/> (PlanAugmentation), <see cref="FeatureFusion.FuseTailClass"/> once per tail class
/// (the fan-out) and <see cref="PhaseTwo.TrainFsa"/> (FineTuneHead). Wall time per stage, per tail class, and peak
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
        var orchestration = args.Flag("skip-orchestration") ? new List<Dictionary<string, object>>() : await Orchestration.MeasureAsync(fanOuts, 2);
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
        var plan = FsaPlan.Create(extracted.ClassCounts(), meanScores, options);
        double planSeconds = clock.Elapsed.TotalSeconds;
        meanScores = null;
        clock.Restart();
        var banks = plan.FusedClasses.Select(c => FeatureFusion.FuseTailClass(extracted.Classes[c],
            plan.ConfusingClasses[c].Select(k => extracted.Classes[k]).ToList(), plan.TailDrawsOfClass(c),
            options.Na, options.TauS, options.TauG, plan.FusionSeed(c))).ToList();
        double fuseSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        using (var pooled = extracted.Pooled())
        using (PhaseTwo.TrainFsa(pooled, plan, banks, phaseOne)) { }
        double fineTuneSeconds = clock.Elapsed.TotalSeconds;
        foreach (var bank in banks) bank.Dispose();
        int tail = plan.Split.TailClasses.Length;
        return new Dictionary<string, object>
        {
            ["classes"] = classes, ["tailClasses"] = tail, ["trainSamples"] = counts.Sum(),
            ["planSeconds"] = planSeconds, ["fuseSeconds"] = fuseSeconds, ["fineTuneSeconds"] = fineTuneSeconds,
            ["fuseMillisecondsPerTailClass"] = 1000 * fuseSeconds / Math.Max(1, tail),
            ["planMicrosecondsPerTailClass"] = 1e6 * planSeconds / Math.Max(1, tail),
            ["peakWorkingSetMiB"] = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0),
        };
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
        md.AppendLine("| trivial activities fanned out (embedded engine) | wall (s) | per activity (ms) |");
        md.AppendLine("|---|---|---|");
        foreach (var r in orchestration)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r["activities"]} | {(double)r["seconds"]:F2} | {(double)r["millisecondsPerActivity"]:F2} |"));
        File.WriteAllText(Path.Combine(output, "scaling-table.md"), md.ToString());
        File.WriteAllText(Path.Combine(output, "scaling.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["setup"] = new Dictionary<string, object> { ["nMax"] = nMax, ["imbalanceFactor"] = imbalance, ["channels"] = channels, ["map"] = "2x2", ["finetuneIterations"] = iterations },
            ["rows"] = rows,
            ["orchestration"] = orchestration,
        }, new JsonSerializerOptions { WriteIndented = true }));
    }
}
