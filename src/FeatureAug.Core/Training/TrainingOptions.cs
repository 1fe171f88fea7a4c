using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FeatureAug.Core.Data;

namespace FeatureAug.Core.Training;

/// <summary>How the learning rate falls after warm-up. JSON: "step", "cosine".</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LearningRateSchedule>))]
public enum LearningRateSchedule
{
    /// <summary>Multiplied by Gamma at each milestone epoch (PyTorch MultiStepLR).</summary>
    [JsonStringEnumMemberName("step")]
    Step,

    /// <summary>Cosine from the base rate to 0 over the steps after warm-up, updated every step.</summary>
    [JsonStringEnumMemberName("cosine")]
    Cosine,
}

/// <summary>Phase-I training loss. JSON: "ce", "focal".</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrainingLoss>))]
public enum TrainingLoss
{
    [JsonStringEnumMemberName("ce")]
    CrossEntropy,

    /// <summary>Lin et al. (2017) focal loss, -(1 - p_t)^gamma log p_t, averaged over the batch.</summary>
    [JsonStringEnumMemberName("focal")]
    Focal,
}

/// <summary>
/// Phase-I (whole network) training settings: the one model the CLI, the HTTP API (options.training, camelCase,
/// enums as strings) and the orchestration input share. Defaults are the product's: 12 epochs of SGD (lr 0.1,
/// momentum 0.9, weight decay 5e-4, batch 128), one warm-up epoch, cosine decay, cross-entropy, random crops after
/// 2-pixel padding and horizontal flips. <see cref="PaperCifar"/> is the paper's CIFAR schedule. Where checkpoints go
/// is not a setting of the training (<see cref="CheckpointOptions"/>), nor is the seed (an argument of the training).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Total epochs of the schedule (also when a call trains only part of them).</summary>
    public int Epochs { get; init; } = 12;

    public int BatchSize { get; init; } = 128;

    /// <summary>Base learning rate, reached at the end of warm-up.</summary>
    public double LearningRate { get; init; } = 0.1;

    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay applied by SGD to every parameter (5e-4 as pytorch-cifar; 2e-4 is common for CIFAR-LT).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Epochs of linear warm-up, increased every step from LearningRate/steps to LearningRate.</summary>
    public int WarmupEpochs { get; init; } = 1;

    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>
    /// Step schedule: epoch numbers (1..Epochs, increasing) from which the rate is multiplied by Gamma once more. Empty:
    /// <see cref="DefaultMilestones"/> (x Gamma at 2/3 and 5/6 of training); see <see cref="EffectiveMilestones"/>.
    /// </summary>
    public IReadOnlyList<int> Milestones { get; init; } = [];

    /// <summary>Step schedule: factor applied at each milestone.</summary>
    public double Gamma { get; init; } = 0.1;

    public TrainingLoss Loss { get; init; } = TrainingLoss.CrossEntropy;

    /// <summary>Focal loss exponent; 0 makes it cross-entropy.</summary>
    public double FocalGamma { get; init; } = 2.0;

    /// <summary>Input augmentation: zero padding before the random crop, in pixels (0 = no crop).</summary>
    public int CropPadding { get; init; } = 2;

    /// <summary>Input augmentation: flip each training image horizontally with probability 1/2.</summary>
    public bool HorizontalFlip { get; init; } = true;

    /// <summary>The milestones the schedule uses: <see cref="Milestones"/>, or for a step schedule without any the default ones.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> EffectiveMilestones =>
        Milestones.Count > 0 ? Milestones
        : Schedule == LearningRateSchedule.Step ? DefaultMilestones(Epochs)
        : [];

    /// <summary>The input augmentation of Phase I; null (clean images) with neither crop nor flip.</summary>
    [JsonIgnore]
    public AugmentationOptions? Augmentation => CropPadding == 0 && !HorizontalFlip ? null : new AugmentationOptions(CropPadding, HorizontalFlip);

    /// <summary>The milestones of a step schedule that names none: round(2/3) and round(5/6) of the epochs (those >= 1, once each).</summary>
    public static IReadOnlyList<int> DefaultMilestones(int epochs) =>
        new[] { (int)Math.Round(epochs * 2 / 3.0), (int)Math.Round(epochs * 5 / 6.0) }.Where(m => m >= 1).Distinct().ToArray();

    /// <summary>
    /// The paper's CIFAR schedule (spec/fsa.md, "Phase I"): SGD lr 0.1 divided by 10 at epoch 150 of 300, momentum 0.9,
    /// batch 128, no warm-up, crop after 4-pixel padding and flip.
    /// </summary>
    public static TrainingOptions PaperCifar { get; } = new()
    {
        Epochs = 300, WarmupEpochs = 0, Schedule = LearningRateSchedule.Step, Milestones = [150], CropPadding = 4,
    };

    /// <summary>Every violated constraint, one problem each, named by its camelCase property; empty when the options are usable.</summary>
    public IReadOnlyList<OptionProblem> Problems()
    {
        var problems = new List<OptionProblem>();
        void Check(bool ok, string field, FormattableString message)
        {
            if (!ok) problems.Add(new OptionProblem(field, message.ToString(CultureInfo.InvariantCulture)));
        }

        Check(Epochs >= 1, "epochs", $"must be at least 1, got {Epochs}.");
        Check(BatchSize >= 1, "batchSize", $"must be at least 1, got {BatchSize}.");
        Check(double.IsFinite(LearningRate) && LearningRate > 0, "learningRate", $"must be a positive number, got {LearningRate}.");
        Check(double.IsFinite(Momentum) && Momentum >= 0 && Momentum < 1, "momentum", $"must be in [0, 1), got {Momentum}.");
        Check(double.IsFinite(WeightDecay) && WeightDecay >= 0, "weightDecay", $"must be zero or positive, got {WeightDecay}.");
        Check(WarmupEpochs >= 0 && WarmupEpochs < Epochs, "warmupEpochs", $"must be at least 0 and below the epoch count {Epochs}, got {WarmupEpochs}.");
        Check(Enum.IsDefined(Schedule), "schedule", $"must be step or cosine, got {Schedule}.");
        if (Milestones is null)
        {
            problems.Add(new OptionProblem("milestones", "must be a list (empty for the default milestones)."));
        }
        else
        {
            for (int i = 0; i < Milestones.Count; i++)
                Check(Milestones[i] >= 1 && Milestones[i] <= Epochs, "milestones", $"{Milestones[i]} is outside 1..{Epochs} (the epochs); set milestones that fit the epoch count.");
            Check(Milestones.Zip(Milestones.Skip(1)).All(pair => pair.Second > pair.First), "milestones", $"must increase, got {string.Join(", ", Milestones)}.");
        }
        Check(double.IsFinite(Gamma) && Gamma > 0 && Gamma <= 1, "gamma", $"must be in (0, 1], got {Gamma}.");
        Check(Enum.IsDefined(Loss), "loss", $"must be ce or focal, got {Loss}.");
        Check(double.IsFinite(FocalGamma) && FocalGamma >= 0, "focalGamma", $"must be zero or positive, got {FocalGamma}.");
        Check(CropPadding >= 0, "cropPadding", $"must be zero or positive, got {CropPadding}.");
        return problems;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every violated constraint, one "TrainingOptions.Property: message" per line.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw OptionProblem.ToException(nameof(TrainingOptions), problems);
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
    /// nested augmentation, resolved milestones, enum names, the checkpoint placement fixed), so the hashes of
    /// checkpoints already written stay valid (tests: GoldenTrajectoryHashTests).
    /// </summary>
    private sealed record TrajectoryKey(
        int Epochs, int BatchSize, double LearningRate, double Momentum, double WeightDecay, int WarmupEpochs,
        string Schedule, IReadOnlyList<int> Milestones, double Gamma, string Loss, double FocalGamma,
        AugmentationOptions? Augmentation, int Seed, string? CheckpointDirectory, int CheckpointsToKeep)
    {
        public static TrajectoryKey Of(TrainingOptions options, int seed) => new(
            options.Epochs, options.BatchSize, options.LearningRate, options.Momentum, options.WeightDecay, options.WarmupEpochs,
            options.Schedule.ToString(), options.EffectiveMilestones, options.Gamma, options.Loss.ToString(), options.FocalGamma,
            options.Augmentation, seed, CheckpointDirectory: null, CheckpointsToKeep: 1);
    }
}

/// <summary>
/// Where Phase I writes a checkpoint after every epoch (and resumes from), and how many of the newest are kept; older
/// ones are deleted after each save. Not part of the trajectory: the same training may be checkpointed anywhere.
/// </summary>
public sealed record CheckpointOptions
{
    /// <exception cref="ArgumentException">A blank directory or fewer than one checkpoint to keep.</exception>
    public CheckpointOptions(string directory, int keep = 2)
    {
        if (string.IsNullOrWhiteSpace(directory))
            throw new ArgumentException("CheckpointOptions.Directory: must be a path.", nameof(directory));
        if (keep < 1)
            throw new ArgumentException($"CheckpointOptions.Keep: must be at least 1, got {keep}.", nameof(keep));
        Directory = directory;
        Keep = keep;
    }

    public string Directory { get; }

    /// <summary>How many of the newest checkpoints are kept.</summary>
    public int Keep { get; }
}
