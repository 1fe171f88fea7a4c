using System.Globalization;
using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Models;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

/// <summary>
/// A problem with one field of a run request. <see cref="Field"/> is the field's path in the request
/// ("training.epochs", "fsa.tauS", "dataset.kind", "runId", "architecture"); <see cref="Message"/> says what is wrong
/// without naming it ("must be at least 1, got 0."). Each edge words it for its users: the CLI by its flag, the HTTP
/// API by the body's JSON path.
/// </summary>
public sealed record RequestProblem(string Field, string Message)
{
    public override string ToString() => $"{Field} {Message}";
}

/// <summary>
/// Checks a <see cref="RunRequest"/> at the edge that made it (CLI, HTTP, upload, timer), before anything is
/// scheduled or stored: identifiers, the data set reference and every option. The rules that need the data's class
/// count are checked once more, with it, by ValidateDataset; later stages only assert.
/// </summary>
public static class RunRequestValidation
{
    private static readonly string[] Devices = { "auto", "cpu", "cuda" };

    /// <summary>Every problem found, one per violated rule; empty when the request is usable.</summary>
    public static IReadOnlyList<RequestProblem> Problems(RunRequest request)
    {
        var problems = new List<RequestProblem>();
        void Check(bool ok, string field, string message) { if (!ok) problems.Add(new RequestProblem(field, message)); }
        string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

        CheckName(problems, "runId", request.RunId);
        CheckName(problems, "modelName", request.ModelName);
        Check(ModelFactory.Names.Contains(request.Architecture), "architecture",
            $"'{request.Architecture}' is not a known architecture; valid: {string.Join(", ", ModelFactory.Names)}.");

        var data = request.Dataset;
        if (data.StoreName is not null) CheckName(problems, "dataset.storeName", data.StoreName);
        Check(DatasetCatalog.KindNames.Contains(data.Kind?.Trim(), StringComparer.OrdinalIgnoreCase), "dataset.kind",
            $"'{data.Kind}' is not a known data set; valid: {string.Join(", ", DatasetCatalog.KindNames)}.");
        Check(data.ImbalanceFactor >= 1 && double.IsFinite(data.ImbalanceFactor), "dataset.imbalanceFactor",
            Invariant($"must be a finite number >= 1, got {data.ImbalanceFactor}."));
        Check(data.Profile is "exp" or "step", "dataset.profile", $"must be exp or step, got '{data.Profile}'.");
        Check(data.MaxPerClass is null or >= 1, "dataset.maxPerClass", $"must be at least 1, got {data.MaxPerClass}.");
        Check(data.ImageSize is null or (>= 8 and <= 1024), "dataset.imageSize", $"must be between 8 and 1024, got {data.ImageSize}.");
        Check(data.Channels is 1 or 3, "dataset.channels", $"must be 1 or 3, got {data.Channels}.");
        Check(data.ValFraction >= 0 && data.ValFraction < 1, "dataset.valFraction", Invariant($"must lie in [0, 1), got {data.ValFraction}."));

        problems.AddRange(request.Training.Problems().Select(p => new RequestProblem("training." + p.Field, p.Message)));

        var execution = request.Execution;
        Check(Devices.Contains(execution.Device), "execution.device", $"must be auto, cpu or cuda, got '{execution.Device}'.");
        Check(execution.EpochsPerActivity >= 1, "execution.epochsPerActivity", $"must be at least 1, got {execution.EpochsPerActivity}.");
        Check(execution.Threads >= 0, "execution.threads", $"must be >= 0, got {execution.Threads}.");
        Check(execution.ExtractShards is >= 1 and <= 256, "execution.extractShards", $"must lie in 1..256, got {execution.ExtractShards}.");
        Check(execution.FuseActivities is >= 1 and <= 4096, "execution.fuseActivities", $"must lie in 1..4096, got {execution.FuseActivities}.");
        Check(execution.PromotionMargin >= 0 && execution.PromotionMargin < 1, "execution.promotionMargin",
            Invariant($"must lie in [0, 1), got {execution.PromotionMargin}."));
        Check(execution.Promote == ExecutionSettings.PromoteBest || HeadMethods.TryFromKey(execution.Promote, out _), "execution.promote",
            $"must be {ExecutionSettings.PromoteBest} or a method ({string.Join(", ", HeadMethods.Keys)}), got '{execution.Promote}'.");
        // Only an image folder can bring its own validation split; every other data set needs one held out to choose on.
        Check(!(execution.Promote == ExecutionSettings.PromoteBest && data.ValFraction == 0 && !IsImageFolder(data)), "execution.promote",
            "best chooses on the validation split, and a validation fraction of 0 leaves none; hold one out or name the method to promote.");

        // The class count is unknown here; with no upper bound only the count-free rules can fail.
        problems.AddRange(FsaProblems(request.Fsa, int.MaxValue));
        return problems;
    }

    /// <summary>
    /// The rules that need the data: the FSA options against the data set's <paramref name="classCount"/>, and
    /// "best" promotion against whether the run has validation images.
    /// </summary>
    public static IReadOnlyList<RequestProblem> ProblemsWithData(RunRequest request, int classCount, bool hasValidation)
    {
        var problems = FsaProblems(request.Fsa, classCount).ToList();
        if (request.Execution.Promote == ExecutionSettings.PromoteBest && !hasValidation)
            problems.Add(new RequestProblem("execution.promote",
                "best chooses on the validation split, and this run has none (validation fraction 0 and no val/ folder); hold one out or name the method to promote."));
        return problems;
    }

    private static bool IsImageFolder(DatasetReference data) =>
        string.Equals(data.Kind?.Trim(), "imagefolder", StringComparison.OrdinalIgnoreCase) || data.StoreName is not null;

    /// <summary>Throws <see cref="InvalidRunInputException"/> listing every problem, each as "field message".</summary>
    public static void ThrowIfAny(IReadOnlyList<RequestProblem> problems)
    {
        if (problems.Count > 0) throw new InvalidRunInputException(string.Join(" ", problems));
    }

    private static IEnumerable<RequestProblem> FsaProblems(FsaOptions options, int classCount) =>
        options.Problems(classCount).Select(p => new RequestProblem("fsa." + p.Field, p.Message));

    private static void CheckName(List<RequestProblem> problems, string field, string value)
    {
        if (ArtifactPath.IdentifierProblem(value) is { } problem) problems.Add(new RequestProblem(field, problem));
    }
}
