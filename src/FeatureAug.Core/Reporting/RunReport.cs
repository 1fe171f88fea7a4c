using System.Text.Json;
using System.Text.Json.Serialization;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Reporting;

/// <summary>
/// Everything a run reports, serialised as report.json (camelCase, accuracies as fractions).
/// Method keys are the stable keys of <see cref="HeadMethods.Key"/>. Each method is measured on the validation split
/// (which chose its configuration and the <see cref="Candidate"/>) and on the test set (reported, never chosen on).
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
    /// <summary>The head the run puts forward and exports, and why.</summary>
    public CandidateSection? Candidate { get; init; }
    /// <summary>Where the defaults were adapted to the data set (see <see cref="AugmentationPlan.Adaptations"/>).</summary>
    public IReadOnlyList<string> Adaptations { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// The report of one run from what its stages produced. Its warnings name fused features drawn more than once
    /// (<paramref name="reuseFactor"/> above 1; null when no FSA head was trained) and fused slots that fell back to
    /// real tail features.
    /// </summary>
    public static RunReport Create(
        string runId, DatasetSection dataset, ModelSection model, SplitSection split,
        IReadOnlyDictionary<int, int[]> confusingClasses, IReadOnlyDictionary<int, int> fusedPerClass, double? reuseFactor, int fallbacks,
        FsaOptions fsa, IReadOnlyDictionary<string, MethodScores> methods, IReadOnlyDictionary<string, double> timings,
        CandidateSection? candidate = null, IReadOnlyList<string>? adaptations = null)
    {
        ArgumentNullException.ThrowIfNull(fsa);
        var warnings = new List<string>();
        if (reuseFactor > 1.0)
            warnings.Add($"Fused features were reused (reuse factor {reuseFactor:F2} > 1): the banks are smaller than Phase II draws.");
        if (fallbacks > 0)
            warnings.Add($"{fallbacks} fused slots fell back to real tail features (no class-specific or class-generic vectors at tau_s {fsa.TauS}, tau_g {fsa.TauG}).");
        static string Key(int c) => c.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new RunReport
        {
            RunId = runId,
            Dataset = dataset,
            Model = model,
            Split = split,
            ConfusingClasses = confusingClasses.ToDictionary(kv => Key(kv.Key), kv => kv.Value),
            Fusion = new FusionSection(fusedPerClass.ToDictionary(kv => Key(kv.Key), kv => kv.Value), reuseFactor ?? 0, fallbacks),
            Methods = methods.ToDictionary(kv => kv.Key, kv => MethodResult.From(kv.Value.Test, kv.Value.Validation, kv.Value.Configuration)),
            Timings = timings,
            Warnings = warnings,
            Candidate = candidate,
            Adaptations = adaptations ?? Array.Empty<string>(),
        };
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RunReport FromJson(string json) =>
        JsonSerializer.Deserialize<RunReport>(json, JsonOptions)
        ?? throw new InvalidDataException("report.json is empty.");
}

/// <summary>The data set: TrainCounts exclude the validation images, ValidationSource says where those came from.</summary>
public sealed record DatasetSection(string Name, IReadOnlyList<string> Classes, int[] TrainCounts, int[] TestCounts)
{
    public int[] ValidationCounts { get; init; } = [];
    public string ValidationSource { get; init; } = "none";
}

/// <summary>One method's figures as a run measured them: on the test set, on validation (when the run has one), and how its head was chosen.</summary>
public sealed record MethodScores(ClassificationMetrics Test, ClassificationMetrics? Validation, HeadConfiguration? Configuration);

/// <summary>
/// The head a run puts forward: <see cref="Method"/>, chosen by <see cref="ChosenBy"/> ("validation": best balanced
/// accuracy there; "request": named by the run's promote setting), in words in <see cref="Reason"/>.
/// </summary>
public sealed record CandidateSection(string Method, string ChosenBy, string Reason);

public sealed record ModelSection(string Architecture, long Parameters, int Epochs, string Device);

public sealed record SplitSection(int[] HeadClasses, int[] TailClasses, double HeadRatio);

/// <summary>Fusion statistics: fused features per tail class, the realised reuse factor, fallbacks to real features.</summary>
public sealed record FusionSection(IReadOnlyDictionary<string, int> BankSizes, double ReuseFactor, int Fallbacks);

public sealed record PromotionSection(string ModelName, double? ChampionTop1, double ChallengerTop1, double Margin, bool Promoted, string Reason);

/// <summary>
/// Accuracy figures of one method on the test set, as fractions; many/medium/few null where no class falls in the
/// group. ValidationTop1 and ValidationTailTop1: balanced accuracy on the validation split (null without one).
/// </summary>
public sealed record MethodResult(
    double Top1, double HeadTop1, double TailTop1, double? Many, double? Medium, double? Few, double[] PerClass)
{
    public double? ValidationTop1 { get; init; }
    public double? ValidationTailTop1 { get; init; }
    public HeadConfiguration? Configuration { get; init; }

    public static MethodResult From(ClassificationMetrics metrics, ClassificationMetrics? validation = null, HeadConfiguration? configuration = null) =>
        new(metrics.Top1, metrics.HeadTop1, metrics.TailTop1, metrics.Many, metrics.Medium, metrics.Few, metrics.PerClass)
        {
            ValidationTop1 = validation?.Top1,
            ValidationTailTop1 = validation?.TailTop1,
            Configuration = configuration,
        };
}
