using System.Globalization;
using System.Text;
using System.Text.Json;
using FeatureAug.Core.Fsa;
using ScottPlot;

namespace FeatureAug.Bench;

/// <summary>Aggregates the per-run rows of <see cref="Accuracy"/> into fashion-mnist-lt.md/.json and the sweep heat map.</summary>
internal static class AccuracyReport
{
    private static readonly IReadOnlyList<string> Baselines = HeadMethods.Keys;

    public static void Write(List<Dictionary<string, object?>> log, string output, Dictionary<string, object> protocol)
    {
        var md = new StringBuilder();
        var json = new Dictionary<string, object>();
        md.AppendLine("# Fashion-MNIST-LT: accuracy against baselines");
        md.AppendLine();
        md.AppendLine("Protocol of this run: " + JsonSerializer.Serialize(protocol));
        md.AppendLine();
        // Hand-written findings (bench/results/fashion-mnist-lt.notes.md) stay at the top across re-runs.
        string notes = Path.Combine(output, "fashion-mnist-lt.notes.md");
        if (File.Exists(notes))
        {
            md.AppendLine(File.ReadAllText(notes).TrimEnd());
            md.AppendLine();
        }
        foreach (var group in log.GroupBy(r => (double)r["imbalanceFactor"]!))
        {
            double imbalance = group.Key;
            var byMethod = group.GroupBy(r => (string)r["method"]!).ToDictionary(g => g.Key, g => g.ToList());
            var candidates = byMethod.Keys.Where(k => k.StartsWith("fsa", StringComparison.Ordinal)).ToList();
            string best = candidates.OrderByDescending(k => byMethod[k].Average(r => (double)r["valTop1"]!)).First();
            var entry = new Dictionary<string, object>();
            foreach (var name in Baselines.Where(byMethod.ContainsKey)) entry[name] = Summary(byMethod[name]);
            var bestSummary = Summary(byMethod[best]);
            bestSummary["variant"] = best;
            entry["fsaBest"] = bestSummary;
            json[F($"if{imbalance}")] = entry;

            int seeds = byMethod[HeadMethod.CrossEntropy.Key()].Count;
            md.AppendLine(F($"## IF {imbalance} ({seeds} seed(s); mean ± std in %, test set; val = held-out 20 % of the training classes)"));
            md.AppendLine();
            md.AppendLine("| method | val top-1 | top-1 | head | tail | many | medium | few |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var name in Baselines.Where(byMethod.ContainsKey).Append(best))
                md.AppendLine(Row(name == best && name != HeadMethod.Fsa.Key() ? $"**FSA best (val-selected): {name}**" : name == HeadMethod.Fsa.Key() ? "FSA (paper)" : name, byMethod[name]));
            md.AppendLine();
            md.AppendLine("Every FSA variant tried (selection by mean val top-1; test shown for the record, not used to choose):");
            md.AppendLine();
            md.AppendLine("| variant | val top-1 | top-1 | head | tail | many | medium | few |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var name in candidates.OrderByDescending(k => byMethod[k].Average(r => (double)r["valTop1"]!)))
                md.AppendLine(Row(name, byMethod[name]));
            md.AppendLine();
            var sweep = byMethod.Keys.Where(k => k.StartsWith("sweep:", StringComparison.Ordinal)).ToList();
            if (sweep.Count > 0) WriteSweep(md, byMethod, sweep, output);
        }
        File.WriteAllText(Path.Combine(output, "fashion-mnist-lt.md"), md.ToString());
        File.WriteAllText(Path.Combine(output, "fashion-mnist-lt.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void WriteSweep(StringBuilder md, Dictionary<string, List<Dictionary<string, object?>>> byMethod, List<string> sweep, string output)
    {
        md.AppendLine("### Sweep of tau_s / tau_g and h_r (paper options otherwise; one seed)");
        md.AppendLine();
        md.AppendLine("| setting | val top-1 | top-1 | tail |");
        md.AppendLine("|---|---|---|---|");
        foreach (var name in sweep)
        {
            var r = byMethod[name][0];
            md.AppendLine(F($"| {name[6..]} | {100 * (double)r["valTop1"]!:F2} | {100 * (double)r["top1"]!:F2} | {100 * (double)r["tail"]!:F2} |"));
        }
        md.AppendLine();
        double[] taus = [0.5, 0.6, 0.7, 0.8, 0.9];
        double[] taug = [0.1, 0.2, 0.3, 0.4, 0.5];
        var values = new double[taug.Length, taus.Length];
        for (int i = 0; i < taug.Length; i++)
            for (int j = 0; j < taus.Length; j++)
                values[taug.Length - 1 - i, j] = byMethod.TryGetValue(F($"sweep:tauS={taus[j]}:tauG={taug[i]}"), out var rows)
                    ? 100 * (double)rows[0]["top1"]! : double.NaN;
        var plot = new Plot();
        var heat = plot.Add.Heatmap(values);
        heat.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heat).Label = "test top-1 (%)";
        for (int i = 0; i < taug.Length; i++)
            for (int j = 0; j < taus.Length; j++)
                if (!double.IsNaN(values[taug.Length - 1 - i, j]))
                    plot.Add.Text(F($"{values[taug.Length - 1 - i, j]:F1}"), j, taug.Length - 1 - i).LabelFontColor = Colors.White;
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, taus.Length).Select(x => (double)x).ToArray(), taus.Select(t => F($"{t}")).ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, taug.Length).Select(x => (double)x).ToArray(), taug.Reverse().Select(t => F($"{t}")).ToArray());
        plot.XLabel("tau_s");
        plot.YLabel("tau_g");
        plot.Title("FSA test top-1 at IF 100 over tau_s x tau_g (blank: tau_g > tau_s)");
        plot.SavePng(Path.Combine(output, "sweep-tau.png"), 700, 550);
        md.AppendLine("![tau sweep](sweep-tau.png)");
        md.AppendLine();
    }

    /// <summary>Re-renders the report from fashion-mnist-lt-runs.json (e.g. after editing the notes).</summary>
    public static int Rerender(Args args)
    {
        string output = args.String("output", "bench/results");
        var log = ReadRuns(output);
        var first = log[0];
        Write(log, output, new Dictionary<string, object>
        {
            ["model"] = first["model"]!, ["epochs"] = first["epochs"]!, ["finetuneIterations"] = first["finetuneIterations"]!,
            ["seeds"] = log.Select(r => r["seed"]).Distinct().ToArray(), ["imbalanceFactors"] = log.Select(r => r["imbalanceFactor"]).Distinct().ToArray(),
            ["more"] = "see fashion-mnist-lt.notes.md for the schedule",
        });
        return 0;
    }

    /// <summary>The per-run rows stored in fashion-mnist-lt-runs.json (numbers as double).</summary>
    public static List<Dictionary<string, object?>> ReadRuns(string output)
    {
        var rows = JsonSerializer.Deserialize<List<Dictionary<string, JsonElement>>>(File.ReadAllText(Path.Combine(output, "fashion-mnist-lt-runs.json")))!;
        return rows.Select(r => r.ToDictionary(kv => kv.Key, kv => kv.Value.ValueKind switch
        {
            JsonValueKind.Number => (object?)kv.Value.GetDouble(),
            JsonValueKind.String => kv.Value.GetString(),
            _ => null,
        })).ToList();
    }

    private static Dictionary<string, object> Summary(List<Dictionary<string, object?>> rows)
    {
        var top1 = rows.Select(r => (double)r["top1"]!).ToArray();
        return new Dictionary<string, object>
        {
            ["top1Mean"] = top1.Average(), ["top1Std"] = Std(top1),
            ["tailMean"] = rows.Average(r => (double)r["tail"]!), ["headMean"] = rows.Average(r => (double)r["head"]!),
            ["valTop1Mean"] = rows.Average(r => (double)r["valTop1"]!), ["seeds"] = rows.Count,
        };
    }

    private static string Row(string name, List<Dictionary<string, object?>> rows)
    {
        string Cell(string key) => rows.Any(r => r[key] is null) ? "–" : Fmt(rows.Select(r => (double)r[key]!).ToArray());
        return $"| {name} | {Cell("valTop1")} | {Cell("top1")} | {Cell("head")} | {Cell("tail")} | {Cell("many")} | {Cell("medium")} | {Cell("few")} |";
    }

    private static string Fmt(double[] values) => values.Length == 1 ? F($"{100 * values[0]:F2}") : F($"{100 * values.Average():F2} ± {100 * Std(values):F2}");

    private static double Std(double[] values)
    {
        if (values.Length < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
