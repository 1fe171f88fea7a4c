using FeatureAug.Core.Training;

namespace FeatureAug.Core.Tests.Training;

public class LearningRatesTests
{
    // 10 epochs of 5 steps, 2 warm-up epochs (10 steps).
    private static readonly TrainingOptions StepOptions = new()
    {
        Epochs = 10, LearningRate = 0.1, WarmupEpochs = 2, Schedule = LearningRateSchedule.Step, Milestones = new[] { 5, 8 }, Gamma = 0.1,
    };

    [Theory]
    [InlineData(0, 0.01)]     // warm-up: 1/10 of the rate
    [InlineData(4, 0.05)]     // 5/10
    [InlineData(9, 0.1)]      // last warm-up step reaches the base rate
    [InlineData(10, 0.1)]
    [InlineData(24, 0.1)]     // epoch index 4, before milestone 5
    [InlineData(25, 0.01)]    // epoch index 5: first milestone passed
    [InlineData(39, 0.01)]
    [InlineData(40, 0.001)]   // epoch index 8: second milestone
    [InlineData(49, 0.001)]
    public void StepScheduleWithWarmup(long step, double expected)
    {
        Assert.Equal(expected, LearningRates.At(StepOptions, step, stepsPerEpoch: 5), precision: 12);
    }

    [Theory]
    [InlineData(4, 0.05)]     // warm-up scales the cosine's starting value, the base rate
    [InlineData(10, 0.1)]     // cosine starts after warm-up: t = 0 of T = 40
    [InlineData(20, 0.085355339059327)] // t = 10: 0.05 * (1 + cos(pi/4))
    [InlineData(30, 0.05)]    // t = 20: half way
    [InlineData(49, 0.000154133313344)] // t = 39: 0.05 * (1 + cos(39 pi / 40))
    public void CosineScheduleWithWarmup(long step, double expected)
    {
        var options = StepOptions with { Schedule = LearningRateSchedule.Cosine, Milestones = Array.Empty<int>() };
        Assert.Equal(expected, LearningRates.At(options, step, stepsPerEpoch: 5), precision: 12);
    }

    [Fact]
    public void WithoutWarmupTheFirstStepUsesTheBaseRate()
    {
        // A step schedule whose factor is 1: the rate never drops.
        var options = new TrainingOptions { Epochs = 3, LearningRate = 0.2, WarmupEpochs = 0, Schedule = LearningRateSchedule.Step, Gamma = 1 };
        Assert.Equal(0.2, LearningRates.At(options, 0, stepsPerEpoch: 4));
        Assert.Equal(0.2, LearningRates.At(options, 11, stepsPerEpoch: 4));
    }

    [Theory]
    [InlineData(39, 0.1)]     // epoch index 7
    [InlineData(40, 0.01)]    // epoch index 8 = round(2/3 of 12)
    [InlineData(50, 0.001)]   // epoch index 10 = round(5/6 of 12)
    public void AStepScheduleWithoutMilestonesUsesTheDefaultOnes(long step, double expected)
    {
        var options = new TrainingOptions { Epochs = 12, WarmupEpochs = 0, Schedule = LearningRateSchedule.Step };
        Assert.Equal(expected, LearningRates.At(options, step, stepsPerEpoch: 5), precision: 12);
    }

    [Fact]
    public void StepsOutsideTheScheduleAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRates.At(StepOptions, 50, stepsPerEpoch: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRates.At(StepOptions, -1, stepsPerEpoch: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRates.At(StepOptions, 0, stepsPerEpoch: 0));
    }
}
