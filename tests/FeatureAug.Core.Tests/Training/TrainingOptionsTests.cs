using FeatureAug.Core.Data;
using FeatureAug.Core.Training;

namespace FeatureAug.Core.Tests.Training;

public class TrainingOptionsTests
{
    [Fact]
    public void DefaultsAreThePapersCifarSchedule()
    {
        var options = new TrainingOptions();
        options.Validate();
        Assert.Equal(300, options.Epochs);
        Assert.Equal(128, options.BatchSize);
        Assert.Equal(0.1, options.LearningRate);
        Assert.Equal(0.9, options.Momentum);
        Assert.Equal(5e-4, options.WeightDecay);
        Assert.Equal(new[] { 150 }, options.Milestones);
        Assert.Equal(0.1, options.Gamma);
        Assert.Equal(new AugmentationOptions(), options.Augmentation);
        Assert.Null(options.CheckpointDirectory);
    }

    public static TheoryData<TrainingOptions, string> InvalidOptions => new()
    {
        { new TrainingOptions { Epochs = 0 }, "Epochs" },
        { new TrainingOptions { BatchSize = 0 }, "BatchSize" },
        { new TrainingOptions { LearningRate = 0 }, "LearningRate" },
        { new TrainingOptions { LearningRate = double.NaN }, "LearningRate" },
        { new TrainingOptions { Momentum = 1 }, "Momentum" },
        { new TrainingOptions { WeightDecay = -1e-4 }, "WeightDecay" },
        { new TrainingOptions { Epochs = 5, Milestones = Array.Empty<int>(), WarmupEpochs = 5 }, "WarmupEpochs" },
        { new TrainingOptions { Epochs = 10 }, "Milestones" },
        { new TrainingOptions { Epochs = 10, Milestones = new[] { 6, 3 } }, "Milestones" },
        { new TrainingOptions { Gamma = 0 }, "Gamma" },
        { new TrainingOptions { FocalGamma = -1 }, "FocalGamma" },
        { new TrainingOptions { Augmentation = new AugmentationOptions(CropPadding: -1) }, "Augmentation.CropPadding" },
        { new TrainingOptions { CheckpointDirectory = " " }, "CheckpointDirectory" },
        { new TrainingOptions { CheckpointsToKeep = 0 }, "CheckpointsToKeep" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidFieldsAreNamed(TrainingOptions options, string field)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith($"TrainingOptions.{field}:", error.Message);
    }

    [Fact]
    public void TrajectoryHashIgnoresCheckpointPlacementOnly()
    {
        var options = new TrainingOptions { Epochs = 4, Milestones = new[] { 2 } };
        string hash = options.TrajectoryHash(seed: 0);
        Assert.Equal(16, hash.Length);
        Assert.Equal(hash, (options with { CheckpointDirectory = "/tmp/a", CheckpointsToKeep = 5 }).TrajectoryHash(seed: 0));
        Assert.Equal(hash, (options with { Milestones = new List<int> { 2 } }).TrajectoryHash(seed: 0));
        Assert.NotEqual(hash, (options with { LearningRate = 0.05 }).TrajectoryHash(seed: 0));
        Assert.NotEqual(hash, (options with { Milestones = new[] { 3 } }).TrajectoryHash(seed: 0));
        Assert.NotEqual(hash, (options with { Augmentation = null }).TrajectoryHash(seed: 0));
        Assert.NotEqual(hash, options.TrajectoryHash(seed: 1));
    }
}
