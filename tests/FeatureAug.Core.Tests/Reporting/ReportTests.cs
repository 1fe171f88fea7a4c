using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;

namespace FeatureAug.Core.Tests.Reporting;

public class ReportTests
{
    internal static RunReport SampleReport()
    {
        var trainCounts = new[] { 100, 30, 5 };
        var ce = ClassificationMetrics.Compute(new[] { 0, 0, 1, 0, 2, 2 }, new[] { 0, 0, 1, 1, 2, 2 }, trainCounts, new[] { 0 });
        var fsa = ClassificationMetrics.Compute(new[] { 0, 0, 1, 1, 2, 2 }, new[] { 0, 0, 1, 1, 2, 2 }, trainCounts, new[] { 0 });
        return new RunReport
        {
            RunId = "run-1",
            Dataset = new DatasetSection("tiny", new[] { "a", "b", "c" }, trainCounts, new[] { 2, 2, 2 }),
            Model = new ModelSection("resnet8", 78042, 2, "cpu"),
            Split = new SplitSection(new[] { 0 }, new[] { 1, 2 }, 0.7),
            ConfusingClasses = new Dictionary<string, int[]> { ["1"] = new[] { 0, 2 }, ["2"] = new[] { 1, 0 } },
            Fusion = new FusionSection(new Dictionary<string, int> { ["1"] = 40, ["2"] = 12 }, 0.95, 3),
            Methods = new Dictionary<string, MethodResult>
            {
                [HeadMethod.CrossEntropy.Key()] = MethodResult.From(ce),
                [HeadMethod.Fsa.Key()] = MethodResult.From(fsa),
            },
            Timings = new Dictionary<string, double> { ["phase1Seconds"] = 12.5 },
        };
    }

    [Fact]
    public void CreateKeysClassesInvariantlyAndWarnsOfReuseAndFallbacks()
    {
        var sample = SampleReport();
        var ce = ClassificationMetrics.Compute(new[] { 0, 0, 1, 0, 2, 2 }, new[] { 0, 0, 1, 1, 2, 2 }, new[] { 100, 30, 5 }, new[] { 0 });

        var report = RunReport.Create("run-1", sample.Dataset, sample.Model, sample.Split,
            new Dictionary<int, int[]> { [1] = [0, 2], [2] = [1, 0] }, new Dictionary<int, int> { [1] = 40, [2] = 12 },
            reuseFactor: 1.25, fallbacks: 3, new FsaOptions { TauS = 0.7, TauG = 0.3 },
            new Dictionary<string, MethodScores> { [HeadMethod.CrossEntropy.Key()] = new(ce, null, null) }, sample.Timings);

        Assert.Equal(new[] { "1", "2" }, report.ConfusingClasses.Keys);
        Assert.Equal(new[] { 0, 2 }, report.ConfusingClasses["1"]);
        Assert.Equal(new Dictionary<string, int> { ["1"] = 40, ["2"] = 12 }, report.Fusion!.BankSizes);
        Assert.Equal(1.25, report.Fusion.ReuseFactor);
        Assert.Equal(3, report.Fusion.Fallbacks);
        Assert.Equal(MethodResult.From(ce).Top1, report.Methods["ce"].Top1);
        Assert.Equal(2, report.Warnings.Count);
        Assert.Contains("reuse factor 1.25 > 1", report.Warnings[0]);
        Assert.Contains("3 fused slots fell back to real tail features (no class-specific or class-generic vectors at tau_s 0.7, tau_g 0.3)", report.Warnings[1]);
    }

    [Fact]
    public void CreateWithoutAnFsaHeadOrFallbacksWarnsOfNothing()
    {
        var sample = SampleReport();
        var report = RunReport.Create("run-1", sample.Dataset, sample.Model, sample.Split, new Dictionary<int, int[]>(),
            new Dictionary<int, int>(), reuseFactor: null, fallbacks: 0, new FsaOptions(), new Dictionary<string, MethodScores>(), sample.Timings);

        Assert.Empty(report.Warnings);
        Assert.Equal(0, report.Fusion!.ReuseFactor);
    }

    [Fact]
    public void JsonIsCamelCaseWithFractionsAndNullGroups()
    {
        var report = SampleReport();
        string json = report.ToJson();
        Assert.Contains("\"trainCounts\"", json);
        Assert.Contains("\"headTop1\"", json);
        Assert.Contains("\"few\": 1", json); // class 2 (5 images) is the only few-shot class, all correct
        var back = RunReport.FromJson(json);
        Assert.Equal(0.5, back.Methods["ce"].PerClass[1]);
        Assert.Null(back.Methods["ce"].Many); // no class has more than 100 training images
        Assert.Equal(5.0 / 6.0, back.Methods["ce"].Top1, 12);
    }

    [Fact]
    public void MarkdownHasEveryTable()
    {
        string md = MarkdownReport.Render(SampleReport());
        // Without a validation split the validation column is empty and the report says so.
        Assert.Contains("| CE | – | 83.33 | 100.00 | 75.00 | – | 75.00 | 100.00 |", md);
        Assert.Contains("| FSA | – | 100.00 |", md);
        Assert.Contains("No validation split", md);
        Assert.Contains("| 1 b | 0 a, 2 c |", md);
        Assert.Contains("Reuse factor 0.95", md);
    }

    [Fact]
    public void PlotsAreWrittenAsPng()
    {
        string dir = Directory.CreateTempSubdirectory("featureaug-plots").FullName;
        var report = SampleReport();
        ReportPlots.ClassDistribution(report, Path.Combine(dir, "dist.png"));
        ReportPlots.PerClassAccuracy(report, Path.Combine(dir, "acc.png"));
        ReportPlots.FeaturePca(new[]
        {
            new FeatureCloud("real", new float[,] { { 0, 0, 1 }, { 1, 0, 1 } }),
            new FeatureCloud("fused", new float[,] { { 2, 1, 0 }, { 0, 1, 0 } }),
        }, "pca", Path.Combine(dir, "pca.png"));
        foreach (string name in new[] { "dist.png", "acc.png", "pca.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, name));
            Assert.True(bytes.Length > 1000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
    }

    [Fact]
    public void PcaPreservesDistancesOfPointsOnAPlane()
    {
        // Points spanning a 2-D plane in 3-D: projection onto two components keeps pairwise distances.
        var cloud = new float[,] { { 0, 0, 5 }, { 3, 0, 5 }, { 0, 4, 5 }, { 3, 4, 5 } };
        var (x, y) = ReportPlots.ProjectToTwoComponents(new[] { cloud })[0];
        double Distance(int a, int b) => Math.Sqrt(Math.Pow(x[a] - x[b], 2) + Math.Pow(y[a] - y[b], 2));
        Assert.Equal(5.0, Distance(0, 3), 4);
        Assert.Equal(3.0, Distance(0, 1), 4);
        Assert.Equal(4.0, Distance(0, 2), 4);
    }
}
