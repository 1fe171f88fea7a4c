namespace FeatureAug.Workflow.Tests;

public sealed class FusionBatchesTests
{
    [Fact]
    public void FewerTailClassesThanActivities_GetOneActivityEach()
    {
        Assert.Equal([[5], [6], [7]], FusionBatches.Assign([5, 6, 7], maxActivities: 64));
    }

    [Fact]
    public void MoreTailClassesThanActivities_AreDealtRoundRobinInPlanOrder()
    {
        Assert.Equal([[10, 13, 16], [11, 14], [12, 15]], FusionBatches.Assign([10, 11, 12, 13, 14, 15, 16], maxActivities: 3));
        Assert.Equal([[4, 2, 9]], FusionBatches.Assign([4, 2, 9], maxActivities: 1));
    }

    [Fact]
    public void EveryTailClassLandsInExactlyOneActivity_AtIterationScale()
    {
        int[] tail = Enumerable.Range(0, 3_765).Select(i => 10_000 - 2 * i).ToArray();

        var batches = FusionBatches.Assign(tail, maxActivities: 64);

        Assert.Equal(64, batches.Count);
        Assert.Equal(tail.Order(), batches.SelectMany(b => b).Order());
        Assert.InRange(batches.Max(b => b.Length) - batches.Min(b => b.Length), 0, 1);
    }

    [Fact]
    public void NoTailClasses_NoActivities_AndZeroActivitiesIsRefused()
    {
        Assert.Empty(FusionBatches.Assign([], maxActivities: 8));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => FusionBatches.Assign([1], maxActivities: 0));
        Assert.Equal("maxActivities", error.ParamName);
    }
}
