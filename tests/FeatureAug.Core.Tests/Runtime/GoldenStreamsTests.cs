using System.Security.Cryptography;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Runtime;
using FeatureAug.Core.Training;
using TorchSharp;

namespace FeatureAug.Core.Tests.Runtime;

/// <summary>
/// The random streams of a run, pinned to the values the code produced at 9ffccb9 (before the seed mixers, samplers
/// and seeds were merged): derived seeds, Phase-I epoch orders, the plan's tail draws and every Phase-II batch
/// schedule. Integer streams only (System.Random and the SplitMix finalisers are the same on every machine), so a
/// refactoring that changes one number of one stream fails here.
/// </summary>
public class GoldenStreamsTests
{
    private static readonly int[] Seeds = [0, 1, 7, -3, int.MaxValue];

    /// <summary>First 16 hex digits of the SHA-256 of the values as little-endian int64.</summary>
    private static string Digest(IEnumerable<long> values)
    {
        var bytes = values.SelectMany(BitConverter.GetBytes).ToArray();
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    private static string Digest(IEnumerable<int> values) => Digest(values.Select(v => (long)v));

    [Fact]
    public void StreamSeedsOfARun()
    {
        int[] streams = [1_000, 2_000, 3_000, 4_000, 5_000];
        var derived = (from seed in Seeds from stream in streams from index in new[] { 0, 1, 9 } select SeedStreams.Derive(seed, stream, index)).ToArray();

        Assert.Equal(new[] { 2109891574, 1628747114, 1609868469 }, derived[..3]);
        Assert.Equal("623345c9d55d5c9a", Digest(derived));
    }

    [Fact]
    public void PhaseOneEpochSeedsAndOrders()
    {
        var epochSeeds = (from seed in Seeds from epoch in new[] { 0, 1, 11, 299 } from stream in new[] { SeedStreams.EpochShuffle, SeedStreams.EpochAugmentation } select SeedStreams.ForEpoch(seed, epoch, stream)).ToArray();
        var orders = (from seed in Seeds from epoch in new[] { 0, 4 } select BackboneTraining.EpochOrder(50, seed, epoch)).SelectMany(o => o);

        Assert.Equal(new[] { 565798388, 607567, 1703865447 }, epochSeeds[..3]);
        Assert.Equal("292e1f4f1e81f16a", Digest(epochSeeds));
        Assert.Equal("d9eee4f269c6e7a9", Digest(orders));
    }

    private static readonly int[] PlanCounts = [400, 200, 60, 30, 10];

    private static double[][] PlanScores() =>
        Enumerable.Range(0, 5).Select(c => Enumerable.Range(0, 5).Select(k => (k * 7 + c * 3) % 5 * 0.1).ToArray()).ToArray();

    private static readonly FsaOptions PlanOptions = new() { HeadRatio = 0.85, Nf = 2, Na = 3, Nt = 8, FineTuneIterations = 300, Views = 1 };

    [Fact]
    public void TheTailDrawsOfAPlan()
    {
        var uniform = AugmentationPlan.Create(PlanCounts, PlanScores(), PlanOptions, seed: 11);
        var balanced = AugmentationPlan.Create(PlanCounts, PlanScores(), PlanOptions with { TailSampling = GroupSampling.ClassBalanced, Views = 0 }, seed: -3);

        Assert.Equal("39193633f7ee7e07", Digest(uniform.TailDrawSamples));
        Assert.Equal("903d4192faa41ffc", Digest(uniform.TailDrawViews));
        Assert.Equal("8e1b7c788377e0f9", Digest(balanced.TailDrawSamples));
        Assert.Equal("17744bb6a4ed1d9d", Digest(balanced.TailDrawViews));
        Assert.Equal(new[] { 1051906521, 1250309676 }, PlanCounts.Select((_, c) => c).Where(c => c >= 2).Select(uniform.FusionSeed).Take(2));
    }

    private static readonly int[] BatchCounts = [10, 6, 3, 1];

    private static PooledFeatureTable Pooled(int viewsPerSample) => new(torch.zeros(BatchCounts.Sum(), viewsPerSample, 4), BatchCounts);

    [Fact]
    public void ThePhaseTwoBatchesOfEveryTrainedMethod()
    {
        var options = new FsaOptions { HeadRatio = 0.75, Nt = 2, Na = 3, Nf = 2, FineTuneIterations = 40, Views = 1 };
        const int seed = 3;
        var scores = Enumerable.Range(0, 4).Select(_ => Enumerable.Repeat(0.25, 4).ToArray()).ToArray();
        using var twoViews = Pooled(2);
        using var oneView = Pooled(1);
        var plan = AugmentationPlan.Create(BatchCounts, scores, options, seed);
        var balancedPlan = AugmentationPlan.Create(BatchCounts, scores, options with { HeadSampling = GroupSampling.ClassBalanced, TailSampling = GroupSampling.ClassBalanced }, seed);

        var fsa = HeadFineTuning.FsaBatches(twoViews, plan, BankSizing.PlannedSizes(plan), out _);
        var fsaBalanced = HeadFineTuning.FsaBatches(twoViews, balancedPlan, BankSizing.PlannedSizes(balancedPlan), out _);
        var noAug = HeadFineTuning.NoAugBatches(twoViews, plan.Split, options, seed);
        var noAugOneView = HeadFineTuning.NoAugBatches(oneView, plan.Split, options with { Views = 0 }, seed: 7);
        var crt = HeadFineTuning.CrtBatches(twoViews, options, seed, SeedStreams.CrtSchedule);
        var crtOneView = HeadFineTuning.CrtBatches(oneView, options with { Views = 0 }, seed: int.MaxValue, SeedStreams.CrtSchedule);

        Assert.Equal(("7ff1c676eb869c3d", "5c3f359b26b47637"), (Digest(fsa.Rows), Digest(fsa.Labels)));
        Assert.Equal(("67087aa163d5bd21", "5693f0e3a9c7688f"), (Digest(fsaBalanced.Rows), Digest(fsaBalanced.Labels)));
        Assert.Equal(("8e19987c21a7a8cb", "be4d302fea48e882"), (Digest(noAug.Rows), Digest(noAug.Labels)));
        Assert.Equal(("fedc220dd2b3a8f8", "c68055a4e90fbbf8"), (Digest(noAugOneView.Rows), Digest(noAugOneView.Labels)));
        Assert.Equal(("0a9f2e56ed667542", "5207611df86c1eb0"), (Digest(crt.Rows), Digest(crt.Labels)));
        Assert.Equal(("4ab05e10e5368de8", "425e1ce4a9057758"), (Digest(crtOneView.Rows), Digest(crtOneView.Labels)));
    }
}
