using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Tests.Fsa;

/// <summary>The defaults adapt to data sets with few classes; explicit impossible values are still refused by name.</summary>
public sealed class SmallDataDefaultsTests
{
    private static double[][] Uniform(int classes) =>
        Enumerable.Range(0, classes).Select(_ => Enumerable.Repeat(1.0 / classes, classes).ToArray()).ToArray();

    [Theory]
    [InlineData(new[] { 30, 20 }, 1, true)]           // h_r 0.9 would take both classes
    [InlineData(new[] { 30, 20, 10 }, 2, true)]       // ... and all three
    [InlineData(new[] { 300, 20, 10 }, 2, false)]     // 300 of 330 >= 0.9: head {0} by the ratio
    public void TwoAndThreeClassesPlanWithTheDefaults(int[] counts, int expectedNf, bool capped)
    {
        var plan = AugmentationPlan.Create(counts, Uniform(counts.Length), new FsaOptions { FineTuneIterations = 4 }, seed: 0);

        Assert.NotEmpty(plan.Split.HeadClasses);
        Assert.NotEmpty(plan.Split.TailClasses);
        Assert.Equal(capped, plan.Split.HeadCapped);
        Assert.All(plan.ConfusingClasses.Values, ranked => Assert.Equal(expectedNf, ranked.Length));
        Assert.Contains(plan.Adaptations, a => a.StartsWith($"N_f = {expectedNf}:", StringComparison.Ordinal));
        Assert.Equal(capped, plan.Adaptations.Any(a => a.Contains("leave nothing to augment", StringComparison.Ordinal)));
    }

    [Fact]
    public void AThousandClassesKeepThePapersDefaultsUnadapted()
    {
        var counts = Enumerable.Range(0, 1000).Select(c => 1 + (int)(500 * Math.Pow(0.01, c / 999.0))).ToArray();
        var options = new FsaOptions { FineTuneIterations = 2 };
        Assert.Empty(options.Problems(1000));
        Assert.Equal(3, options.EffectiveNf(1000));
        var split = ClassSplit.FromCounts(counts, options.HeadRatio);
        Assert.False(split.HeadCapped);
        Assert.InRange(split.TailClasses.Length, 1, 999);
    }

    [Fact]
    public void AnExplicitNfTheDataCannotHoldIsRefusedByName()
    {
        var problem = Assert.Single(new FsaOptions { Nf = 3 }.Problems(3));
        Assert.Equal(("nf", "must be below the class count 3, got 3."), (problem.Field, problem.Message));
        Assert.Empty(new FsaOptions().Problems(2));
        Assert.Empty(new FsaOptions { Nf = 2 }.Problems(3));
    }
}
