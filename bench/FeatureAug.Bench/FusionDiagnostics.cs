using System.Globalization;
using System.Text;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Bench;

/// <summary>
/// Where fused features land against the real ones: per tail class, mean L2 norms of the real tail features, the
/// fused ones (paper) and the norm-matched ones, their distance to the tail class mean and to the nearest confusing
/// class mean, and the share of fused features whose nearest class mean is the tail class. Writes PREFIX.md and a
/// PCA plot PREFIX-class{c}.png of the smallest tail class.
/// </summary>
internal static class FusionDiagnostics
{
    public static void Write(ExtractedFeatures features, AugmentationPlan plan, FsaOptions options, string prefix)
    {
        using var scope = torch.NewDisposeScope();
        var means = torch.stack(features.Classes.Select(c => c.Pooled.select(1, 0).mean(new long[] { 0 })).ToList(), 0);   // C x K
        var text = new StringBuilder();
        text.AppendLine("| tail class | n | norm real | norm fused | norm fused (matched) | dist fused->own mean | dist real->own mean | dist fused->nearest confusing mean | fused nearest to own mean | fused (matched) nearest to own mean |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        int smallest = plan.FusedClasses.OrderBy(c => features.Classes[c].Count).First();
        foreach (int c in plan.FusedClasses)
        {
            var confusing = plan.ConfusingClasses[c].Select(k => features.Classes[k]).ToList();
            var draws = plan.TailDrawsOfClass(c).Take(400).ToArray();
            using var bank = FeatureFusion.FuseTailClass(features.Classes[c], confusing, draws, options.Na, options.TauS, options.TauG, plan.FusionSeed(c));
            using var matched = FeatureFusion.FuseTailClass(features.Classes[c], confusing, draws, options.Na, options.TauS, options.TauG, plan.FusionSeed(c), matchTailNorm: true);
            var real = features.Classes[c].Pooled.select(1, 0);
            double NearestOwn(Tensor x) => (torch.cdist(x, means).argmin(1) == c).to_type(ScalarType.Float32).mean().item<float>();
            double Dist(Tensor x, int k) => (x - means[k]).norm(1).mean().item<float>();
            double confusingDist = plan.ConfusingClasses[c].Min(k => Dist(bank.Features, k));
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c} | {features.Classes[c].Count} | {real.norm(1).mean().item<float>():F3} | {bank.Features.norm(1).mean().item<float>():F3} | {matched.Features.norm(1).mean().item<float>():F3} | {Dist(bank.Features, c):F3} | {Dist(real, c):F3} | {confusingDist:F3} | {NearestOwn(bank.Features):P1} | {NearestOwn(matched.Features):P1} |"));
            if (c == smallest)
            {
                var clouds = new List<FeatureCloud>
                {
                    new($"real tail (class {c})", ToArray(real)),
                    new("fused (paper)", ToArray(bank.Features)),
                    new("fused, norm-matched", ToArray(matched.Features)),
                    new($"confusing class {plan.ConfusingClasses[c][0]}", ToArray(features.Classes[plan.ConfusingClasses[c][0]].Pooled.select(1, 0)[..400])),
                };
                ReportPlots.FeaturePca(clouds, $"Pooled features of tail class {c}: real vs fused", string.Create(CultureInfo.InvariantCulture, $"{prefix}-class{c}.png"));
            }
        }
        File.WriteAllText(prefix + ".md", text.ToString());
    }

    private static float[,] ToArray(Tensor rows)
    {
        var data = rows.contiguous().to_type(ScalarType.Float32).data<float>().ToArray();
        int n = (int)rows.shape[0], k = (int)rows.shape[1];
        var result = new float[n, k];
        Buffer.BlockCopy(data, 0, result, 0, data.Length * sizeof(float));
        return result;
    }
}
