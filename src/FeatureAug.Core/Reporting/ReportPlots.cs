using FeatureAug.Core.Fsa;
using ScottPlot;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Reporting;

/// <summary>Pooled features of one group of samples for the PCA plot (rows are samples).</summary>
public sealed record FeatureCloud(string Label, float[,] Features);

/// <summary>The PNG plots of a run: what a user looks at to see what augmentation did.</summary>
public static class ReportPlots
{
    private const int Width = 900;
    private const int Height = 500;

    /// <summary>Training images per class, largest first as the data set orders them.</summary>
    public static void ClassDistribution(RunReport report, string path)
    {
        var plot = new Plot();
        var counts = report.Dataset.TrainCounts;
        var head = new HashSet<int>(report.Split.HeadClasses);
        var bars = Enumerable.Range(0, counts.Length).Select(c => new Bar
        {
            Position = c,
            Value = counts[c],
            FillColor = head.Contains(c) ? Colors.SteelBlue : Colors.OrangeRed,
        }).ToList();
        plot.Add.Bars(bars);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "head", FillColor = Colors.SteelBlue });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "tail", FillColor = Colors.OrangeRed });
        plot.ShowLegend(Alignment.UpperRight);
        LabelClasses(plot, report.Dataset.Classes);
        plot.Axes.Margins(bottom: 0);
        plot.Title($"Training images per class ({report.Dataset.Name})");
        plot.YLabel("training images");
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Per-class test accuracy of every method, side by side.</summary>
    public static void PerClassAccuracy(RunReport report, string path)
    {
        var plot = new Plot();
        var methods = HeadMethods.All.Where(m => report.Methods.ContainsKey(m.Key())).ToList();
        int classes = report.Dataset.Classes.Count;
        double groupWidth = 0.8, barWidth = groupWidth / methods.Count;
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        for (int m = 0; m < methods.Count; m++)
        {
            var color = palette.GetColor(m);
            var perClass = report.Methods[methods[m].Key()].PerClass;
            for (int c = 0; c < classes; c++)
            {
                bars.Add(new Bar
                {
                    Position = c - groupWidth / 2 + barWidth * (m + 0.5),
                    Value = perClass[c] * 100,
                    Size = barWidth,
                    FillColor = color,
                });
            }
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = methods[m].Display(), FillColor = color });
        }
        plot.Add.Bars(bars);
        plot.ShowLegend(Alignment.LowerLeft);
        LabelClasses(plot, report.Dataset.Classes);
        plot.Axes.SetLimitsY(0, 100);
        plot.Title("Per-class test accuracy by method");
        plot.YLabel("accuracy (%)");
        plot.SavePng(path, Width, Height);
    }

    /// <summary>
    /// A 2-D PCA of pooled features: real tail samples against fused ones, with a confusing head
    /// class for reference. The projection is fitted on all clouds together.
    /// </summary>
    public static void FeaturePca(IReadOnlyList<FeatureCloud> clouds, string title, string path)
    {
        var projected = ProjectToTwoComponents(clouds.Select(c => c.Features).ToList());
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < clouds.Count; i++)
        {
            var (xs, ys) = projected[i];
            if (xs.Length == 0) continue;
            var points = plot.Add.ScatterPoints(xs, ys, palette.GetColor(i));
            points.MarkerSize = 4;
            points.LegendText = $"{clouds[i].Label} ({xs.Length})";
        }
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title(title);
        plot.XLabel("PC 1");
        plot.YLabel("PC 2");
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Points per cloud in <see cref="TailFeaturePca"/>: enough to see the shape, few enough to read.</summary>
    public const int PcaSamplesPerCloud = 400;

    /// <summary>
    /// <see cref="FeaturePca"/> of one tail class: its real pooled features (clean view), its fused ones, and those of
    /// its most confusing class, each a random sample of at most <see cref="PcaSamplesPerCloud"/> rows drawn with
    /// <paramref name="seed"/> (the same seed gives the same picture).
    /// </summary>
    public static void TailFeaturePca(
        ClassFeatures tail, FusionBank bank, ClassFeatures confusing, string tailName, string confusingName, int seed, string path)
    {
        ArgumentNullException.ThrowIfNull(tail);
        ArgumentNullException.ThrowIfNull(bank);
        ArgumentNullException.ThrowIfNull(confusing);
        var random = new Random(seed);
        using var tailClean = tail.Pooled.select(1, 0);
        using var confusingClean = confusing.Pooled.select(1, 0);
        FeaturePca(new[]
        {
            new FeatureCloud($"real {tailName}", Sample(tailClean, random)),
            new FeatureCloud($"fused {tailName}", Sample(bank.Features, random)),
            new FeatureCloud($"real {confusingName} (confusing)", Sample(confusingClean, random)),
        }, $"Pooled features of tail class {tailName}: real vs fused (PCA)", path);
    }

    /// <summary>Up to <see cref="PcaSamplesPerCloud"/> rows of <paramref name="rows"/> (N x K), chosen by <paramref name="random"/>.</summary>
    private static float[,] Sample(torch.Tensor rows, Random random)
    {
        int n = (int)rows.shape[0], k = (int)rows.shape[1];
        var chosen = Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(PcaSamplesPerCloud).ToArray();
        using var contiguous = rows.to_type(torch.ScalarType.Float32).contiguous();
        var data = contiguous.data<float>().ToArray();
        var result = new float[chosen.Length, k];
        for (int i = 0; i < chosen.Length; i++)
            for (int j = 0; j < k; j++) result[i, j] = data[chosen[i] * k + j];
        return result;
    }

    /// <summary>Projects every cloud onto the two leading principal components of their union.</summary>
    public static IReadOnlyList<(double[] X, double[] Y)> ProjectToTwoComponents(IReadOnlyList<float[,]> clouds)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = clouds.Select(c => torch.tensor(c)).ToList();
        var all = torch.cat(tensors, 0);
        var mean = all.mean(new long[] { 0 }, keepdim: true);
        var (_, _, vh) = torch.linalg.svd(all - mean, fullMatrices: false);
        var components = vh[..2].t();
        var result = new List<(double[], double[])>();
        foreach (var cloud in tensors)
        {
            if (cloud.shape[0] == 0) { result.Add((Array.Empty<double>(), Array.Empty<double>())); continue; }
            var xy = ((cloud - mean).matmul(components)).to_type(ScalarType.Float64).data<double>().ToArray();
            int n = xy.Length / 2;
            result.Add((Enumerable.Range(0, n).Select(i => xy[2 * i]).ToArray(),
                        Enumerable.Range(0, n).Select(i => xy[2 * i + 1]).ToArray()));
        }
        return result;
    }

    private static void LabelClasses(Plot plot, IReadOnlyList<string> classes)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < classes.Count; c++) ticks.AddMajor(c, classes.Count <= 20 ? classes[c] : c.ToString());
        plot.Axes.Bottom.TickGenerator = ticks;
        if (classes.Count > 10) plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
    }
}
