using System.Text.Json;
using System.Text.Json.Serialization;
using FeatureAug.Core.Data;
using FeatureAug.Core.Training;

namespace FeatureAug.Core.Tests.Training;

public class TrainingOptionsTests
{
    [Fact]
    public void ThePapersCifarScheduleIsAPreset()
    {
        var options = TrainingOptions.PaperCifar;
        options.Validate();
        Assert.Equal(300, options.Epochs);
        Assert.Equal(128, options.BatchSize);
        Assert.Equal(0.1, options.LearningRate);
        Assert.Equal(0.9, options.Momentum);
        Assert.Equal(5e-4, options.WeightDecay);
        Assert.Equal(new[] { 150 }, options.Milestones);
        Assert.Equal(0.1, options.Gamma);
        Assert.Equal(new AugmentationOptions(), options.Augmentation);
        // Where checkpoints go is not a training setting (CheckpointOptions, an argument of the training).
        Assert.Null(typeof(TrainingOptions).GetProperty("CheckpointDirectory"));
    }

    [Fact]
    public void DefaultsAreTheProducts()
    {
        var options = new TrainingOptions();
        options.Validate();
        Assert.Equal((12, 128, 0.1, 0.9, 5e-4, 1), (options.Epochs, options.BatchSize, options.LearningRate, options.Momentum, options.WeightDecay, options.WarmupEpochs));
        Assert.Equal((LearningRateSchedule.Cosine, TrainingLoss.CrossEntropy), (options.Schedule, options.Loss));
        Assert.Empty(options.Milestones);
        Assert.Empty(options.EffectiveMilestones);   // cosine needs none
        Assert.Equal(new AugmentationOptions(CropPadding: 2, HorizontalFlip: true), options.Augmentation);
    }

    [Theory]
    [InlineData(12, new[] { 8, 10 })]
    [InlineData(30, new[] { 20, 25 })]
    [InlineData(3, new[] { 2 })]
    [InlineData(2, new[] { 1, 2 })]
    [InlineData(1, new[] { 1 })]
    public void AStepScheduleWithoutMilestonesDropsAtTwoThirdsAndFiveSixths(int epochs, int[] expected)
    {
        Assert.Equal(expected, TrainingOptions.DefaultMilestones(epochs));
        var step = new TrainingOptions { Epochs = epochs, WarmupEpochs = 0, Schedule = LearningRateSchedule.Step };
        Assert.Equal(expected, step.EffectiveMilestones);
        Assert.Equal(new[] { 1 }, (step with { Milestones = [1] }).EffectiveMilestones);
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
        { new TrainingOptions { Epochs = 10, Milestones = new[] { 150 } }, "Milestones" },
        { new TrainingOptions { Epochs = 10, Milestones = new[] { 6, 3 } }, "Milestones" },
        { new TrainingOptions { Gamma = 0 }, "Gamma" },
        { new TrainingOptions { FocalGamma = -1 }, "FocalGamma" },
        { new TrainingOptions { CropPadding = -1 }, "CropPadding" },
        { new TrainingOptions { Schedule = (LearningRateSchedule)7 }, "Schedule" },
        { new TrainingOptions { Loss = (TrainingLoss)7 }, "Loss" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidFieldsAreNamed(TrainingOptions options, string field)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith($"TrainingOptions.{field}:", error.Message);
    }

    [Fact]
    public void ProblemsListEveryViolationByItsJsonFieldAndValidateThrowsThemAll()
    {
        var options = new TrainingOptions { Epochs = 0, LearningRate = -1, Milestones = [3, 2], CropPadding = -1, Loss = (TrainingLoss)7 };

        Assert.Equal(new[]
        {
            new OptionProblem("epochs", "must be at least 1, got 0."),
            new OptionProblem("learningRate", "must be a positive number, got -1."),
            new OptionProblem("warmupEpochs", "must be at least 0 and below the epoch count 0, got 1."),
            new OptionProblem("milestones", "3 is outside 1..0 (the epochs); set milestones that fit the epoch count."),
            new OptionProblem("milestones", "2 is outside 1..0 (the epochs); set milestones that fit the epoch count."),
            new OptionProblem("milestones", "must increase, got 3, 2."),
            new OptionProblem("loss", "must be ce or focal, got 7."),
            new OptionProblem("cropPadding", "must be zero or positive, got -1."),
        }, options.Problems());
        Assert.Empty(new TrainingOptions().Problems());
        var lines = Assert.Throws<ArgumentException>(options.Validate).Message.Split(Environment.NewLine);
        Assert.Equal(8, lines.Length);
        Assert.Equal("TrainingOptions.CropPadding: must be zero or positive, got -1.", lines[^1]);
    }

    [Fact]
    public void CheckpointPlacementIsCheckedWhereItIsGiven()
    {
        Assert.StartsWith("CheckpointOptions.Directory:", Assert.Throws<ArgumentException>(() => new CheckpointOptions(" ")).Message);
        Assert.StartsWith("CheckpointOptions.Keep:", Assert.Throws<ArgumentException>(() => new CheckpointOptions("/tmp/c", keep: 0)).Message);
        Assert.Equal(("/tmp/c", 2), (new CheckpointOptions("/tmp/c").Directory, new CheckpointOptions("/tmp/c").Keep));
    }

    [Fact]
    public void TrajectoryHashCoversTheOptionsAndTheSeed()
    {
        var options = new TrainingOptions { Epochs = 4, Milestones = new[] { 2 } };
        string hash = options.TrajectoryHash(seed: 0);
        Assert.Equal(16, hash.Length);
        Assert.Equal(hash, (options with { Milestones = new List<int> { 2 } }).TrajectoryHash(seed: 0));
        Assert.NotEqual(hash, (options with { LearningRate = 0.05 }).TrajectoryHash(seed: 0));
        Assert.NotEqual(hash, (options with { Milestones = new[] { 3 } }).TrajectoryHash(seed: 0));
        Assert.NotEqual(hash, (options with { CropPadding = 0, HorizontalFlip = false }).TrajectoryHash(seed: 0));
        Assert.NotEqual(hash, options.TrajectoryHash(seed: 1));
        // The default milestones of a step schedule are the ones it trains with, named or not.
        var step = new TrainingOptions { Schedule = LearningRateSchedule.Step };
        Assert.Equal((step with { Milestones = [8, 10] }).TrajectoryHash(seed: 0), step.TrajectoryHash(seed: 0));
    }

    /// <summary>The options of the HTTP API's parser (Workflow StrictJson): web defaults, camelCase enums as strings.</summary>
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    [Fact]
    public void JsonUsesTheApisMemberNamesAndEnumStrings()
    {
        string json = JsonSerializer.Serialize(new TrainingOptions(), ApiJson);
        Assert.Equal(
            """{"epochs":12,"batchSize":128,"learningRate":0.1,"momentum":0.9,"weightDecay":0.0005,"warmupEpochs":1,"schedule":"cosine","milestones":[],"gamma":0.1,"loss":"ce","focalGamma":2,"cropPadding":2,"horizontalFlip":true}""",
            json);
        // The same strings without the API's converter (e.g. the orchestration input), and back.
        Assert.Equal(json, JsonSerializer.Serialize(new TrainingOptions(), new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        var read = JsonSerializer.Deserialize<TrainingOptions>("""{"epochs":6,"schedule":"step","milestones":[2,4],"loss":"focal","cropPadding":0}""", ApiJson)!;
        Assert.Equal((6, LearningRateSchedule.Step, TrainingLoss.Focal, 0), (read.Epochs, read.Schedule, read.Loss, read.CropPadding));
        Assert.Equal(new[] { 2, 4 }, read.Milestones);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TrainingOptions>("""{"loss":"crossEntropy"}""", ApiJson));
    }
}
