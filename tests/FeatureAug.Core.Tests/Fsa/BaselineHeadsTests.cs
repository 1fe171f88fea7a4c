using FeatureAug.Core.Fsa;
using FeatureAug.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Fsa;

/// <summary>The baselines beside FSA: exact math of one step or of the post-hoc formula, on tiny inputs.</summary>
public sealed class BaselineHeadsTests
{
    private static readonly int[] Counts = { 6, 3, 2, 1 };
    // One iteration of batch 2 * 1 * (1 + 1) = 4; plain SGD so a step is exactly -lr * gradient.
    private static readonly FsaOptions OneStep = new() { HeadRatio = 0.75, Nt = 1, Na = 1, Nf = 1, FineTuneIterations = 1, FineTuneMomentum = 0 };
    private const int Seed = 11;
    private const double Rate = 0.5;

    private static PooledFeatureTable Pooled() =>
        new(torch.rand(new long[] { Counts.Sum(), 1, 3 }, generator: new torch.Generator(5)), Counts);

    private static ClassifierHead PhaseOne()
    {
        var generator = new torch.Generator(9);
        using var weight = torch.randn(4, 3, generator: generator);
        using var bias = torch.randn(4, generator: generator);
        return new ClassifierHead(weight, bias);
    }

    private static AugmentationPlan Plan() =>
        AugmentationPlan.Create(Counts, Enumerable.Range(0, 4).Select(_ => Enumerable.Repeat(0.25, 4).ToArray()).ToArray(), OneStep, Seed);

    /// <summary>Features (B x K, float64) and labels of iteration 0 of <paramref name="batches"/>.</summary>
    private static (Tensor Features, Tensor Labels) FirstBatch(PooledFeatureTable pooled, HeadFineTuning.TrainingBatches batches)
    {
        var rows = torch.tensor(batches.Rows[..batches.BatchSize]);
        var table = pooled.Features.reshape(pooled.Count, pooled.FeatureChannels).to_type(ScalarType.Float64);
        return (table.index_select(0, rows), torch.tensor(batches.Labels[..batches.BatchSize]));
    }

    /// <summary>d mean-CE(logits) / d logits, in float64.</summary>
    private static Tensor LogitGradient(Tensor logits, Tensor labels) =>
        (torch.softmax(logits, 1) - nn.functional.one_hot(labels, 4).to_type(ScalarType.Float64)) / labels.shape[0];

    private static void AssertClose(Tensor expected, Tensor actual) =>
        Assert.True(torch.allclose(expected.to_type(ScalarType.Float64), actual.to_type(ScalarType.Float64), rtol: 1e-5, atol: 1e-6),
            $"expected [{string.Join(", ", FsaTestData.Row(expected))}], got [{string.Join(", ", FsaTestData.Row(actual))}]");

    [Fact]
    public void LogitAdjustmentSubtractsTauTimesTheLogPriorFromTheBias()
    {
        using var phaseOne = PhaseOne();
        using var adjusted = HeadFineTuning.LogitAdjusted(phaseOne, Counts, tau: 1.5);

        var prior = Counts.Select(c => c / 12.0).ToArray();
        var expected = FsaTestData.Row(phaseOne.Bias).Select((b, c) => b - 1.5 * Math.Log(prior[c])).ToArray();
        Assert.Equal(expected, FsaTestData.Row(adjusted.Bias).Select(b => (double)b), new ToleranceComparer(1e-5));
        Assert.True(FsaTestData.Same(phaseOne.Weight, adjusted.Weight));
        using var unchanged = HeadFineTuning.LogitAdjusted(phaseOne, Counts, tau: 0);
        Assert.True(FsaTestData.Same(phaseOne.Bias, unchanged.Bias));
        // A class without samples counts as one, so its adjustment stays finite.
        using var withEmpty = HeadFineTuning.LogitAdjusted(phaseOne, new[] { 6, 3, 2, 0 }, tau: 1);
        Assert.True(withEmpty.IsFinite);
    }

    [Fact]
    public void BalancedSoftmaxStepsOnTheCrossEntropyOfLogitsPlusLogCounts()
    {
        using var scope = torch.NewDisposeScope();
        using var pooled = Pooled();
        using var phaseOne = PhaseOne();
        var plan = Plan();

        using var trained = HeadFineTuning.TrainBalancedSoftmax(pooled, plan, phaseOne, PhaseTwoSchedule.Single(Rate, 1));

        var (features, labels) = FirstBatch(pooled, HeadFineTuning.InstanceBatches(pooled, OneStep, Seed));
        var weight = phaseOne.Weight.to_type(ScalarType.Float64);
        var bias = phaseOne.Bias.to_type(ScalarType.Float64);
        var logPrior = torch.tensor(Counts.Select(c => Math.Log(c)).ToArray());
        var logits = features.matmul(weight.t()) + bias + logPrior;
        Assert.Equal(nn.functional.cross_entropy(logits, labels).item<double>(), trained.Losses[0], 5);
        var gradient = LogitGradient(logits, labels);
        // The stored head predicts with plain W f + b: the prior is only in the loss.
        AssertClose(weight - Rate * gradient.t().matmul(features), trained.Head.Weight);
        AssertClose(bias - Rate * gradient.sum(0L), trained.Head.Bias);
    }

    [Fact]
    public void LwsLearnsOneScalePerClassAndFoldsItIntoTheRowsAndBias()
    {
        using var scope = torch.NewDisposeScope();
        using var pooled = Pooled();
        using var phaseOne = PhaseOne();
        var plan = Plan();

        using var trained = HeadFineTuning.TrainLws(pooled, plan, phaseOne, PhaseTwoSchedule.Single(Rate, 1));

        var (features, labels) = FirstBatch(pooled, HeadFineTuning.CrtBatches(pooled, OneStep, Seed, SeedStreams.LwsSchedule));
        var weight = phaseOne.Weight.to_type(ScalarType.Float64);
        var bias = phaseOne.Bias.to_type(ScalarType.Float64);
        var logits = features.matmul(weight.t()) + bias;   // scales start at 1
        var scales = 1 - Rate * (LogitGradient(logits, labels) * logits).sum(0L);
        AssertClose(weight * scales.unsqueeze(1), trained.Head.Weight);
        AssertClose(bias * scales, trained.Head.Bias);
    }

    [Fact]
    public void CrtReinitStartsFromASeededFreshFcAndDecaysWeights()
    {
        using var scope = torch.NewDisposeScope();
        using var pooled = Pooled();
        using var phaseOne = PhaseOne();
        var plan = Plan();

        using var trained = HeadFineTuning.TrainCrtReinit(pooled, plan, phaseOne, PhaseTwoSchedule.Single(Rate, 1));

        using var start = HeadFineTuning.Reinitialised(4, 3, SeedStreams.Derive(Seed, SeedStreams.CrtReinitInit));
        using var again = HeadFineTuning.Reinitialised(4, 3, SeedStreams.Derive(Seed, SeedStreams.CrtReinitInit));
        Assert.True(FsaTestData.Same(start.Weight, again.Weight));
        Assert.All(FsaTestData.Row(start.Weight).Concat(FsaTestData.Row(start.Bias)), v => Assert.InRange(Math.Abs(v), 0, 1 / Math.Sqrt(3)));
        var (features, labels) = FirstBatch(pooled, HeadFineTuning.CrtBatches(pooled, OneStep, Seed, SeedStreams.CrtReinitSchedule));
        var weight = start.Weight.to_type(ScalarType.Float64);
        var bias = start.Bias.to_type(ScalarType.Float64);
        var gradient = LogitGradient(features.matmul(weight.t()) + bias, labels);
        // Iteration 0 of the cosine runs at the full rate; weight decay 5e-4 adds 5e-4 * theta to every gradient.
        double decay = HeadFineTuning.CrtReinitWeightDecay;
        AssertClose(weight - Rate * (gradient.t().matmul(features) + decay * weight), trained.Head.Weight);
        AssertClose(bias - Rate * (gradient.sum(0L) + decay * bias), trained.Head.Bias);
    }

    [Fact]
    public void SnapshotsAreTheSameTrainingStoppedEarlier()
    {
        using var pooled = Pooled();
        using var phaseOne = PhaseOne();
        var plan = AugmentationPlan.Create(Counts, Enumerable.Range(0, 4).Select(_ => Enumerable.Repeat(0.25, 4).ToArray()).ToArray(),
            OneStep with { FineTuneIterations = 8 }, Seed);

        using var full = HeadFineTuning.TrainCrt(pooled, plan, phaseOne, new PhaseTwoSchedule(Rate, [2, 4, 8]));
        var partialPlan = AugmentationPlan.Create(Counts, Enumerable.Range(0, 4).Select(_ => Enumerable.Repeat(0.25, 4).ToArray()).ToArray(),
            OneStep with { FineTuneIterations = 8 }, Seed);
        using var shorter = HeadFineTuning.TrainCrt(pooled, partialPlan, phaseOne, PhaseTwoSchedule.Single(Rate, 4));

        Assert.Equal(new[] { 2, 4, 8 }, full.Snapshots.Select(s => s.Iterations));
        Assert.True(FsaTestData.Same(shorter.Head.Weight, full.Snapshots[1].Head.Weight));
        Assert.True(FsaTestData.Same(full.Head.Weight, full.Snapshots[2].Head.Weight));
        Assert.Throws<ArgumentException>(() => HeadFineTuning.TrainCrt(pooled, plan, phaseOne, new PhaseTwoSchedule(Rate, [4, 2])));
        Assert.Throws<ArgumentException>(() => HeadFineTuning.TrainCrt(pooled, plan, phaseOne, new PhaseTwoSchedule(Rate, [9])));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
