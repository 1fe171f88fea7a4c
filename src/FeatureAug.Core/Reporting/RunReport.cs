using System.Text.Json;
using System.Text.Json.Serialization;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Reporting;

/// <summary>
/// Everything a run reports, serialised as report.json (camelCase, accuracies as fractions).
/// Method keys are the stable keys of <see cref="HeadMethods.Key"/>: ce, noAug, crt, tauNorm, fsa.
/// </summary>
public sealed record RunReport
{
    public required string RunId { get; init; }
    public required DatasetSection Dataset { get; init; }
    public required ModelSection Model { get; init; }
    public required SplitSection Split { get; init; }
    public IReadOnlyDictionary<string, int[]> ConfusingClasses { get; init; } = new Dictionary<string, int[]>();
    public FusionSection? Fusion { get; init; }
    public required IReadOnlyDictionary<string, MethodResult> Methods { get; init; }
    public required IReadOnlyDictionary<string, double> Timings { get; init; }
    public PromotionSection? Promotion { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RunReport FromJson(string json) =>
        JsonSerializer.Deserialize<RunReport>(json, JsonOptions)
        ?? throw new InvalidDataException("report.json is empty.");
}

public sealed record DatasetSection(string Name, IReadOnlyList<string> Classes, int[] TrainCounts, int[] TestCounts);

public sealed record ModelSection(string Architecture, long Parameters, int Epochs, string Device);

public sealed record SplitSection(int[] HeadClasses, int[] TailClasses, double HeadRatio);

/// <summary>Fusion statistics: fused features per tail class, the realised reuse factor, fallbacks to real features.</summary>
public sealed record FusionSection(IReadOnlyDictionary<string, int> BankSizes, double ReuseFactor, int Fallbacks);

public sealed record PromotionSection(string ModelName, double? ChampionTop1, double ChallengerTop1, double Margin, bool Promoted, string Reason);

/// <summary>Accuracy figures of one method, as fractions; many/medium/few null where no class falls in the group.</summary>
public sealed record MethodResult(
    double Top1, double HeadTop1, double TailTop1, double? Many, double? Medium, double? Few, double[] PerClass)
{
    public static MethodResult From(ClassificationMetrics metrics) =>
        new(metrics.Top1, metrics.HeadTop1, metrics.TailTop1, metrics.Many, metrics.Medium, metrics.Few, metrics.PerClass);
}
