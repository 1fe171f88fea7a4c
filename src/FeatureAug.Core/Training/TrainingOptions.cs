using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FeatureAug.Core.Data;

namespace FeatureAug.Core.Training;

/// <summary>How the learning rate falls after warm-up.</summary>
public enum LearningRateSchedule
{
    /// <summary>Multiplied by Gamma at each milestone epoch (PyTorch MultiStepLR).</summary>
    Step,

    /// <summary>Cosine from the base rate to 0 over the steps after warm-up, updated every step.</summary>
    Cosine,
}

/// <summary>Phase-I training loss.</summary>
public enum TrainingLoss
{
    CrossEntropy,

    /// <summary>Lin et al. (2017) focal loss, -(1 - p_t)^gamma log p_t, averaged over the batch.</summary>
    Focal,
}

/// <summary>
/// Phase-I (whole network) training settings. Defaults are the paper's CIFAR schedule: SGD lr 0.1,
/// momentum 0.9, batch 128, 300 epochs, rate divided by 10 at epoch 150, crop-and-flip augmentation.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Total epochs of the schedule (also when a call trains only part of them).</summary>
    public int Epochs { get; init; } = 300;

    public int BatchSize { get; init; } = 128;

    /// <summary>Base learning rate, reached at the end of warm-up.</summary>
    public double LearningRate { get; init; } = 0.1;

    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay applied by SGD to every parameter (5e-4 as pytorch-cifar; 2e-4 is common for CIFAR-LT).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Epochs of linear warm-up, increased every step from LearningRate/steps to LearningRate.</summary>
    public int WarmupEpochs { get; init; }

    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Step;

    /// <summary>Step schedule: epoch numbers (1..Epochs, increasing) from which the rate is multiplied by Gamma once more.</summary>
    public IReadOnlyList<int> Milestones { get; init; } = new[] { 150 };

    /// <summary>Step schedule: factor applied at each milestone.</summary>
    public double Gamma { get; init; } = 0.1;

    public TrainingLoss Loss { get; init; } = TrainingLoss.CrossEntropy;

    /// <summary>Focal loss exponent; 0 makes it cross-entropy.</summary>
    public double FocalGamma { get; init; } = 2.0;

    /// <summary>Input augmentation during training; null trains on the clean images.</summary>
    public AugmentationOptions? Augmentation { get; init; } = new();

    /// <summary>Where a checkpoint is written after every epoch and resumed from; null: no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>How many of the newest checkpoints are kept; older ones are deleted after each save.</summary>
    public int CheckpointsToKeep { get; init; } = 2;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        static void Require(bool condition, string field, string problem)
        {
            if (!condition) throw new ArgumentException($"TrainingOptions.{field}: {problem}");
        }

        Require(Epochs >= 1, nameof(Epochs), $"must be at least 1, got {Epochs}.");
        Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1, got {BatchSize}.");
        Require(double.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), $"must be a positive number, got {LearningRate}.");
        Require(double.IsFinite(Momentum) && Momentum >= 0 && Momentum < 1, nameof(Momentum), $"must be in [0, 1), got {Momentum}.");
        Require(double.IsFinite(WeightDecay) && WeightDecay >= 0, nameof(WeightDecay), $"must be zero or positive, got {WeightDecay}.");
        Require(WarmupEpochs >= 0 && WarmupEpochs < Epochs, nameof(WarmupEpochs), $"must be in 0..Epochs-1 ({Epochs - 1}), got {WarmupEpochs}.");
        Require(Milestones is not null, nameof(Milestones), "must not be null (use an empty list for a constant rate).");
        for (int i = 0; i < Milestones!.Count; i++)
        {
            Require(Milestones[i] >= 1 && Milestones[i] <= Epochs, nameof(Milestones),
                $"{Milestones[i]} is outside 1..Epochs ({Epochs}); set milestones that fit the epoch count.");
            Require(i == 0 || Milestones[i] > Milestones[i - 1], nameof(Milestones), $"must increase, got {string.Join(", ", Milestones)}.");
        }
        Require(double.IsFinite(Gamma) && Gamma > 0 && Gamma <= 1, nameof(Gamma), $"must be in (0, 1], got {Gamma}.");
        Require(double.IsFinite(FocalGamma) && FocalGamma >= 0, nameof(FocalGamma), $"must be zero or positive, got {FocalGamma}.");
        if (Augmentation is not null)
            Require(Augmentation.CropPadding >= 0, $"{nameof(Augmentation)}.{nameof(AugmentationOptions.CropPadding)}",
                $"must be zero or positive, got {Augmentation.CropPadding}.");
        Require(CheckpointDirectory is null || CheckpointDirectory.Trim().Length > 0, nameof(CheckpointDirectory), "must be null or a path.");
        Require(CheckpointsToKeep >= 1, nameof(CheckpointsToKeep), $"must be at least 1, got {CheckpointsToKeep}.");
    }

    /// <summary>
    /// A short hash of these options and the run <paramref name="seed"/>: everything that changes the training
    /// trajectory (not where checkpoints go or how many are kept). A checkpoint only resumes a run with the same hash.
    /// </summary>
    public string TrajectoryHash(int seed)
    {
        var json = JsonSerializer.Serialize(TrajectoryKey.Of(this, seed), HashJson);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16].ToLowerInvariant();
    }

    private static readonly JsonSerializerOptions HashJson = new()
    {
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>
    /// What the hash covers, in the JSON shape of the options record that first defined it (the seed among the options,
    /// the checkpoint placement fixed), so the hashes of checkpoints already written stay valid.
    /// </summary>
    private sealed record TrajectoryKey(
        int Epochs, int BatchSize, double LearningRate, double Momentum, double WeightDecay, int WarmupEpochs,
        string Schedule, IReadOnlyList<int> Milestones, double Gamma, string Loss, double FocalGamma,
        AugmentationOptions? Augmentation, int Seed, string? CheckpointDirectory, int CheckpointsToKeep)
    {
        public static TrajectoryKey Of(TrainingOptions options, int seed) => new(
            options.Epochs, options.BatchSize, options.LearningRate, options.Momentum, options.WeightDecay, options.WarmupEpochs,
            options.Schedule.ToString(), options.Milestones, options.Gamma, options.Loss.ToString(), options.FocalGamma,
            options.Augmentation, seed, CheckpointDirectory: null, CheckpointsToKeep: 1);
    }
}
