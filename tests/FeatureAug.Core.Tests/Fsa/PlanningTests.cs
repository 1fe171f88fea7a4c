using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Tests.Fsa;

public class PlanningTests
{
    private static readonly int[] FashionMnistLtIf100 = { 6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60 };

    [Fact]
    public void FashionMnistLtIf100SplitsIntoClassesZeroToFourAndFiveToNine()
    {
        var split = ClassSplit.FromCounts(FashionMnistLtIf100, 0.9);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, split.HeadClasses);
        Assert.Equal(new[] { 5, 6, 7, 8, 9 }, split.TailClasses);
    }

    [Fact]
    public void TheHeadIsTheSmallestPrefixByCountReachingTheRatio()
    {
        // Sorted: class 2 (50), class 0 (30), class 3 (15, ties with 1 broken by index), class 1 (15); total 110.
        int[] counts = { 30, 15, 50, 15 };
        Assert.Equal(new[] { 2 }, ClassSplit.FromCounts(counts, 50.0 / 110).HeadClasses);        // exactly reached
        Assert.Equal(new[] { 0, 2 }, ClassSplit.FromCounts(counts, 0.5).HeadClasses);
        Assert.Equal(new[] { 0, 1, 2 }, ClassSplit.FromCounts(counts, 0.8).HeadClasses);         // 95/110 = 0.86: class 1 before 3
        Assert.Equal(new[] { 3 }, ClassSplit.FromCounts(counts, 0.8).TailClasses);
        // h_r 1 would take every class; the head stops at C - 1 so the smallest class is left to augment.
        var all = ClassSplit.FromCounts(counts, 1.0);
        Assert.Equal(new[] { 3 }, all.TailClasses);
        Assert.True(all.HeadCapped);
        Assert.False(ClassSplit.FromCounts(counts, 0.8).HeadCapped);
    }

    [Fact]
    public void ConfusingClassesAreTheTopMeanScoresExcludingTheClassItself()
    {
        double[][] meanScores =
        {
            new[] { 0.7, 0.1, 0.1, 0.1, 0.0 },
            new[] { 0.2, 0.5, 0.1, 0.1, 0.1 },
            new[] { 0.1, 0.1, 0.1, 0.4, 0.3 },  // tail 2: its own score is not the highest; 3, 4 lead
            new[] { 0.3, 0.3, 0.2, 0.1, 0.1 },  // tail 3: classes 0 and 1 tie, index order decides
            new[] { 0.05, 0.25, 0.4, 0.1, 0.2 },
        };

        var ranked = ConfusingClasses.Rank(meanScores, new[] { 2, 3, 4 }, nf: 2, headOnly: false, headClasses: new[] { 0, 1 });
        Assert.Equal(new[] { 3, 4 }, ranked[2]);
        Assert.Equal(new[] { 0, 1 }, ranked[3]);
        Assert.Equal(new[] { 2, 1 }, ranked[4]);

        var headOnly = ConfusingClasses.Rank(meanScores, new[] { 2, 3, 4 }, nf: 3, headOnly: true, headClasses: new[] { 0, 1 });
        Assert.Equal(new[] { 0, 1 }, headOnly[2]);
        Assert.Equal(new[] { 1, 0 }, headOnly[4]);
    }

    [Fact]
    public void ClassBalancedTailSamplingDrawsEveryTailClassEqually()
    {
        // Head: class 0 (90 of 100); tail: classes 1 (8 samples) and 2 (2 samples).
        int[] counts = { 90, 8, 2 };
        var scores = Enumerable.Range(0, 3).Select(_ => new[] { 1 / 3.0, 1 / 3.0, 1 / 3.0 }).ToArray();
        var options = new FsaOptions { HeadRatio = 0.9, Nf = 1, Nt = 4, FineTuneIterations = 1000 };

        var uniform = AugmentationPlan.Create(counts, scores, options, seed: 2);
        var balanced = AugmentationPlan.Create(counts, scores, options with { TailSampling = GroupSampling.ClassBalanced }, seed: 2);

        // 4,000 draws: uniform over the 10 tail samples gives 8:2 (3,200 : 800), class-balanced 1:1 (±250 is ~7.9 sd).
        Assert.InRange(uniform.TailDrawsOfClass(1).Length, 3200 - 250, 3200 + 250);
        Assert.InRange(balanced.TailDrawsOfClass(1).Length, 2000 - 250, 2000 + 250);
        Assert.Equal(4000, balanced.TailDrawsOfClass(1).Length + balanced.TailDrawsOfClass(2).Length);
        Assert.Equal(new[] { 0, 1 }, balanced.TailDrawsOfClass(2).Distinct().Order());
        Assert.All(balanced.TailDrawSamples, p => Assert.InRange(p, 90, 99));
    }

    [Fact]
    public void TopScoringEqualsAStableDescendingSortWithTiesToTheLowerIndex()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 200; trial++)
        {
            var scores = Enumerable.Range(0, 12).Select(_ => random.Next(4) / 4.0).ToArray();   // many ties
            int count = 1 + random.Next(5);
            int skipped = random.Next(12);
            var expected = Enumerable.Range(0, 12).Where(c => c != skipped).OrderByDescending(c => scores[c]).Take(count).ToArray();

            Assert.Equal(expected, ConfusingClasses.TopScoring(scores, count, c => c != skipped));
        }
        Assert.Equal(new[] { 2, 0 }, ConfusingClasses.TopScoring(new[] { 0.5, 0.1, 0.9 }, 5, c => c != 1));
    }

    [Fact]
    public void ThePlanDrawsTailSamplesUniformlyAndSizesEachBankToItsDraws()
    {
        int[] counts = { 400, 200, 60, 30, 10 };
        var meanScores = Enumerable.Range(0, 5).Select(c => Enumerable.Range(0, 5).Select(k => k == c ? 0.6 : 0.1).ToArray()).ToArray();
        var options = new FsaOptions { HeadRatio = 0.85, Nf = 2, Na = 3, Nt = 8, FineTuneIterations = 3000, Views = 1 };

        var plan = AugmentationPlan.Create(counts, meanScores, options, seed: 11);

        Assert.Equal(new[] { 0, 1 }, plan.Split.HeadClasses);
        Assert.Equal(new[] { 2, 3, 4 }, plan.Split.TailClasses);
        Assert.Equal(3000 * 8, plan.TailDrawSamples.Length);
        Assert.All(plan.TailDrawSamples, p => Assert.InRange(p, 600, 699));
        Assert.Equal(new[] { 0, 1 }, plan.TailDrawViews.Distinct().Order());

        var sizes = BankSizing.PlannedSizes(plan);
        Assert.Equal(3000 * 8 * 3, sizes.Values.Sum());
        foreach (int c in plan.Split.TailClasses)
        {
            var draws = plan.TailDrawsOfClass(c);
            Assert.Equal(draws.Length * 3, sizes[c]);
            Assert.Equal(plan.TailDrawSamples.Where(p => p >= plan.ClassOffsets[c] && p < plan.ClassOffsets[c] + counts[c]).Select(p => p - plan.ClassOffsets[c]), draws);
            // The planned size is N_a times a binomial count around iterations * N_t * n_c / n_tail: within 4 standard deviations.
            double expected = BankSizing.ExpectedSize(3000, 8, 3, counts[c], 100);
            double p = counts[c] / 100.0, spread = 4 * 3 * Math.Sqrt(3000 * 8 * p * (1 - p));
            Assert.InRange(sizes[c], expected - spread, expected + spread);
        }

        var again = AugmentationPlan.Create(counts, meanScores, options, seed: 11);
        Assert.Equal(plan.TailDrawSamples, again.TailDrawSamples);
        Assert.NotEqual(plan.TailDrawSamples, AugmentationPlan.Create(counts, meanScores, options, seed: 12).TailDrawSamples);
    }

    [Fact]
    public void APlanRebuiltFromItsConfusingClassesEqualsTheRankedOne_WithoutTheMeanScores()
    {
        int[] counts = { 400, 200, 60, 30, 10 };
        var meanScores = Enumerable.Range(0, 5).Select(c => Enumerable.Range(0, 5).Select(k => (k * 7 + c * 3) % 5 * 0.1).ToArray()).ToArray();
        var options = new FsaOptions { HeadRatio = 0.85, Nf = 2, Na = 3, Nt = 8, FineTuneIterations = 500, Views = 1 };
        var ranked = AugmentationPlan.Create(counts, meanScores, options, seed: 5);
        // Only the tail rows are read when ranking: the others may be absent.
        var tailRowsOnly = meanScores.Select((row, c) => ranked.Split.TailClasses.Contains(c) ? row : null!).ToArray();

        var rebuilt = AugmentationPlan.Rebuild(counts, ranked.ConfusingClasses.ToDictionary(kv => kv.Key, kv => kv.Value), options, seed: 5);

        Assert.Equal(ranked.ConfusingClasses, AugmentationPlan.Create(counts, tailRowsOnly, options, seed: 5).ConfusingClasses);
        Assert.Equal(ranked.Split.HeadClasses, rebuilt.Split.HeadClasses);
        Assert.Equal(ranked.Split.TailClasses, rebuilt.Split.TailClasses);
        Assert.Equal(ranked.ConfusingClasses, rebuilt.ConfusingClasses);
        Assert.Equal(ranked.TailDrawSamples, rebuilt.TailDrawSamples);
        Assert.Equal(ranked.TailDrawViews, rebuilt.TailDrawViews);
        Assert.All(ranked.FusedClasses, c => Assert.Equal(ranked.TailDrawsOfClass(c), rebuilt.TailDrawsOfClass(c)));
    }

    [Fact]
    public void ConfusingClassesThatDoNotFitTheCountsAndOptionsAreRefusedByName()
    {
        int[] counts = { 400, 200, 60, 30, 10 };
        var options = new FsaOptions { HeadRatio = 0.85, Nf = 2 };

        var otherTail = Assert.Throws<ArgumentException>(() => AugmentationPlan.Rebuild(counts, new Dictionary<int, int[]> { [3] = [0], [4] = [0] }, options, seed: 0));
        var itself = Assert.Throws<ArgumentException>(() => AugmentationPlan.Rebuild(counts, new Dictionary<int, int[]> { [2] = [2], [3] = [0], [4] = [0] }, options, seed: 0));
        var tooMany = Assert.Throws<ArgumentException>(() => AugmentationPlan.Rebuild(counts, new Dictionary<int, int[]> { [2] = [0, 1, 3], [3] = [0], [4] = [0] }, options, seed: 0));

        Assert.Contains("given for classes [3, 4], but the tail under head ratio 0.85 is [2, 3, 4]", otherTail.Message);
        Assert.Contains("tail class 2 must be at most 2 distinct other classes in 0..4, got [2]", itself.Message);
        Assert.Contains("tail class 2 must be at most 2 distinct other classes in 0..4, got [0, 1, 3]", tooMany.Message);
    }

    [Fact]
    public void CreatingAPlanValidatesTheOptionsAndRebuildingItDoesNot()
    {
        int[] counts = { 400, 200, 60, 30, 10 };
        var meanScores = Enumerable.Range(0, 5).Select(c => Enumerable.Range(0, 5).Select(k => k == c ? 0.6 : 0.1).ToArray()).ToArray();
        // tau_s only matters to fusion: a plan made with it is the same plan, and only creation looks at it.
        var options = new FsaOptions { HeadRatio = 0.85, Nf = 2, Nt = 2, FineTuneIterations = 10 };
        var plan = AugmentationPlan.Create(counts, meanScores, options, seed: 1);
        var confusing = plan.ConfusingClasses.ToDictionary(kv => kv.Key, kv => kv.Value);

        var error = Assert.Throws<ArgumentException>(() => AugmentationPlan.Create(counts, meanScores, options with { TauS = 1.5 }, seed: 1));
        Assert.Contains("FsaOptions.TauS: must lie in (0, 1), got 1.5.", error.Message);
        Assert.Equal(plan.TailDrawSamples, AugmentationPlan.Rebuild(counts, confusing, options with { TauS = 1.5 }, seed: 1).TailDrawSamples);
        // What the plan's own arrays need is still asserted.
        Assert.Throws<ArgumentException>(() => AugmentationPlan.Rebuild(counts, confusing, options with { Nt = 0 }, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AugmentationPlan.Rebuild(counts, confusing, options with { HeadRatio = 0 }, seed: 1));
    }

    [Fact]
    public void ReuseFactorIsTheWorstRatioOfDrawsToBankSize()
    {
        var sizes = new Dictionary<int, int> { [3] = 30, [4] = 12 };
        Assert.Equal(1.0, BankSizing.ReuseFactor(new Dictionary<int, int> { [3] = 30, [4] = 12 }, sizes));
        Assert.Equal(0.5, BankSizing.ReuseFactor(new Dictionary<int, int> { [3] = 15, [4] = 3 }, sizes));
        Assert.Equal(1.5, BankSizing.ReuseFactor(new Dictionary<int, int> { [3] = 30, [4] = 18 }, sizes));
        Assert.Equal(double.PositiveInfinity, BankSizing.ReuseFactor(new Dictionary<int, int> { [5] = 1 }, sizes));
    }

    [Fact]
    public void APlanWithoutTailSamplesIsRefused()
    {
        // The only tail class has no training sample, so FSA has nothing to fuse from.
        var meanScores = new[] { new[] { 0.5, 0.5 }, new[] { 0.5, 0.5 } };
        var error = Assert.Throws<InvalidOperationException>(() =>
            AugmentationPlan.Create(new[] { 10, 0 }, meanScores, new FsaOptions { HeadRatio = 1.0, Nf = 1 }, seed: 0));
        Assert.Contains("No tail samples", error.Message);
    }
}
