using System.Globalization;
using System.Text;
using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Reporting;

/// <summary>Renders a <see cref="RunReport"/> as report.md: the same figures as tables.</summary>
public static class MarkdownReport
{
    public static string Render(RunReport report)
    {
        var md = new StringBuilder();
        md.AppendLine($"# FeatureAug run `{report.RunId}`");
        md.AppendLine();
        md.AppendLine($"Dataset **{report.Dataset.Name}**: {report.Dataset.Classes.Count} classes, " +
                      $"{report.Dataset.TrainCounts.Sum()} training and {report.Dataset.TestCounts.Sum()} test images. " +
                      $"Model **{report.Model.Architecture}** ({report.Model.Parameters:N0} parameters), " +
                      $"{report.Model.Epochs} Phase-I epochs on {report.Model.Device}.");
        md.AppendLine();
        md.AppendLine($"Head classes (h_r = {Number(report.Split.HeadRatio)}): {string.Join(", ", report.Split.HeadClasses.Select(c => ClassLabel(report, c)))}  ");
        md.AppendLine($"Tail classes: {string.Join(", ", report.Split.TailClasses.Select(c => ClassLabel(report, c)))}");
        md.AppendLine();
        foreach (string adaptation in report.Adaptations) md.AppendLine($"- Adapted to the data: {adaptation}");
        if (report.Adaptations.Count > 0) md.AppendLine();

        var methods = HeadMethods.All.Where(m => report.Methods.ContainsKey(m.Key())).ToList();
        int validationImages = report.Dataset.ValidationCounts.Sum();
        md.AppendLine("## Accuracy (balanced)");
        md.AppendLine();
        md.AppendLine(validationImages > 0
            ? $"The validation split ({validationImages} images, {report.Dataset.ValidationSource}) chose every method's settings and the candidate head; " +
              $"the test set ({report.Dataset.TestCounts.Sum()} images) is only reported, never chosen on."
            : $"No validation split: every method ran with its default settings; test set {report.Dataset.TestCounts.Sum()} images.");
        md.AppendLine();
        md.AppendLine("| method | validation | test | head | tail | many | medium | few | chosen with |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var method in methods)
        {
            var m = report.Methods[method.Key()];
            string name = report.Candidate?.Method == method.Key() ? $"**{method.Display()}**" : method.Display();
            md.AppendLine($"| {name} | {Percent(m.ValidationTop1)} | {Percent(m.Top1)} | {Percent(m.HeadTop1)} | {Percent(m.TailTop1)} | " +
                          $"{Percent(m.Many)} | {Percent(m.Medium)} | {Percent(m.Few)} | {m.Configuration?.Describe() ?? ""} |");
        }
        md.AppendLine();
        if (report.Candidate is { } candidate)
        {
            md.AppendLine($"Candidate head (exported in model.safetensors, the challenger in promotion): **{HeadMethods.FromKey(candidate.Method).Display()}**. {candidate.Reason}");
            md.AppendLine();
        }

        md.AppendLine("## Per-class accuracy");
        md.AppendLine();
        md.AppendLine("| class | train | " + string.Join(" | ", methods.Select(m => m.Display())) + " |");
        md.AppendLine("|---|---:|" + string.Concat(methods.Select(_ => "---:|")));
        for (int c = 0; c < report.Dataset.Classes.Count; c++)
        {
            md.Append($"| {ClassLabel(report, c)} | {report.Dataset.TrainCounts[c]} |");
            foreach (var method in methods) md.Append($" {Percent(report.Methods[method.Key()].PerClass[c])} |");
            md.AppendLine();
        }
        md.AppendLine();

        if (report.ConfusingClasses.Count > 0)
        {
            md.AppendLine("## Confusing classes");
            md.AppendLine();
            md.AppendLine("| tail class | confusing classes (most confused first) |");
            md.AppendLine("|---|---|");
            foreach (var (tail, confusing) in report.ConfusingClasses.OrderBy(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture)))
            {
                md.AppendLine($"| {ClassLabel(report, int.Parse(tail, CultureInfo.InvariantCulture))} | " +
                              $"{string.Join(", ", confusing.Select(c => ClassLabel(report, c)))} |");
            }
            md.AppendLine();
        }

        if (report.Fusion is { } fusion)
        {
            md.AppendLine("## Fusion");
            md.AppendLine();
            md.AppendLine($"Reuse factor {Number(fusion.ReuseFactor)} (each fused feature drawn at most once when <= 1), " +
                          $"{fusion.Fallbacks} fallbacks to real features.");
            md.AppendLine();
            md.AppendLine("| tail class | fused features |");
            md.AppendLine("|---|---:|");
            foreach (var (tail, size) in fusion.BankSizes.OrderBy(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture)))
                md.AppendLine($"| {ClassLabel(report, int.Parse(tail, CultureInfo.InvariantCulture))} | {size} |");
            md.AppendLine();
        }

        if (report.Promotion is { } promotion)
        {
            md.AppendLine("## Promotion");
            md.AppendLine();
            md.AppendLine($"Model `{promotion.ModelName}`: champion {Percent(promotion.ChampionTop1)}, challenger {Percent(promotion.ChallengerTop1)}, " +
                          $"margin {Percent(promotion.Margin)}: **{(promotion.Promoted ? "promoted" : "kept champion")}** ({promotion.Reason}).");
            md.AppendLine();
        }

        md.AppendLine("## Timings");
        md.AppendLine();
        md.AppendLine("| phase | seconds |");
        md.AppendLine("|---|---:|");
        foreach (var (phase, seconds) in report.Timings) md.AppendLine($"| {phase} | {Number(seconds)} |");
        md.AppendLine();

        if (report.Warnings.Count > 0)
        {
            md.AppendLine("## Warnings");
            md.AppendLine();
            foreach (string warning in report.Warnings) md.AppendLine($"- {warning}");
            md.AppendLine();
        }
        return md.ToString();
    }

    private static string ClassLabel(RunReport report, int c) =>
        report.Dataset.Classes[c] == c.ToString(CultureInfo.InvariantCulture) ? $"{c}" : $"{c} {report.Dataset.Classes[c]}";

    private static string Percent(double? fraction) =>
        fraction is null ? "–" : (fraction.Value * 100).ToString("F2", CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
