using System.Globalization;
using FeatureAug.Core.Data;
using FeatureAug.Core.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

/// <summary>
/// Checks a <see cref="RunRequest"/> before anything is scheduled or stored: identifiers, the data set
/// reference and every option, so a bad request fails at once with a message naming the field.
/// Checks that need the data (class count) run again in ValidateDataset.
/// </summary>
public static class RunRequestValidation
{
    private static readonly string[] Devices = { "auto", "cpu", "cuda" };

    /// <summary>Every problem found, one message each; empty when the request is usable.</summary>
    public static IReadOnlyList<string> Problems(RunRequest request)
    {
        var problems = new List<string>();
        void Check(bool ok, string message) { if (!ok) problems.Add(message); }
        string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

        CheckName(problems, "runId", request.RunId);
        CheckName(problems, "modelName", request.ModelName);
        Check(ModelFactory.Names.Contains(request.Architecture),
            $"model: unknown architecture '{request.Architecture}'; valid: {string.Join(", ", ModelFactory.Names)}.");

        var data = request.Dataset;
        if (data.StoreName is not null) CheckName(problems, "dataset.storeName", data.StoreName);
        try { DatasetCatalog.ParseKind(data.Kind); }
        catch (ArgumentException ex) { problems.Add($"dataset.kind: {ex.Message}"); }
        Check(data.ImbalanceFactor >= 1 && double.IsFinite(data.ImbalanceFactor),
            Invariant($"dataset.imbalanceFactor must be a finite number >= 1, got {data.ImbalanceFactor}."));
        Check(data.Profile is "exp" or "step", $"dataset.profile must be exp or step, got '{data.Profile}'.");
        Check(data.MaxPerClass is null or >= 1, $"dataset.maxPerClass must be at least 1, got {data.MaxPerClass}.");
        Check(data.ImageSize is null or (>= 8 and <= 1024), $"dataset.imageSize must be between 8 and 1024, got {data.ImageSize}.");
        Check(data.Channels is 1 or 3, $"dataset.channels must be 1 or 3, got {data.Channels}.");

        var training = request.Training;
        Check(training.Epochs >= 1, $"training.epochs must be at least 1, got {training.Epochs}.");
        Check(training.BatchSize >= 1, $"training.batchSize must be at least 1, got {training.BatchSize}.");
        Check(training.LearningRate > 0 && double.IsFinite(training.LearningRate), Invariant($"training.learningRate must be positive, got {training.LearningRate}."));
        Check(training.Momentum >= 0 && training.Momentum < 1, Invariant($"training.momentum must lie in [0, 1), got {training.Momentum}."));
        Check(training.WeightDecay >= 0 && double.IsFinite(training.WeightDecay), Invariant($"training.weightDecay must be >= 0, got {training.WeightDecay}."));
        Check(training.WarmupEpochs >= 0 && training.WarmupEpochs < Math.Max(1, training.Epochs),
            $"training.warmupEpochs must lie in [0, epochs), got {training.WarmupEpochs}.");
        Check(Enum.IsDefined(training.Schedule), $"training.schedule must be cosine or step, got '{training.Schedule}'.");
        Check(Enum.IsDefined(training.Loss), $"training.loss must be ce or focal, got '{training.Loss}'.");
        Check(training.CropPadding >= 0, $"training.cropPadding must be >= 0, got {training.CropPadding}.");

        var execution = request.Execution;
        Check(Devices.Contains(execution.Device), $"execution.device must be auto, cpu or cuda, got '{execution.Device}'.");
        Check(execution.Threads >= 0, $"execution.threads must be >= 0, got {execution.Threads}.");
        Check(execution.EpochsPerActivity >= 1, $"execution.epochsPerActivity must be at least 1, got {execution.EpochsPerActivity}.");
        Check(execution.ExtractShards is >= 1 and <= 256, $"execution.extractShards must lie in 1..256, got {execution.ExtractShards}.");
        Check(execution.FuseActivities is >= 1 and <= 4096, $"execution.fuseActivities must lie in 1..4096, got {execution.FuseActivities}.");
        Check(execution.PromotionMargin >= 0 && execution.PromotionMargin < 1,
            Invariant($"execution.promotionMargin must lie in [0, 1), got {execution.PromotionMargin}."));

        // Class count is unknown here; 2 is the least any data set may have, so only count-free rules bite.
        problems.AddRange(request.Fsa.Problems(int.MaxValue).Select(p => $"fsa.{p.Field} {p.Message}"));
        return problems;
    }

    /// <summary>Throws <see cref="InvalidRunInputException"/> listing every problem.</summary>
    public static void Validate(RunRequest request)
    {
        var problems = Problems(request);
        if (problems.Count > 0) throw new InvalidRunInputException(string.Join(" ", problems));
    }

    private static void CheckName(List<string> problems, string field, string value)
    {
        try { ArtifactPath.ValidateIdentifier(value, field); }
        catch (ArgumentException ex) { problems.Add(ex.Message); }
    }
}
