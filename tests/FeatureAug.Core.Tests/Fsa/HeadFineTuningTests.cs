using FeatureAug.Core.Fsa;
using FeatureAug.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Fsa;

public class HeadFineTuningTests
{
    // Head: classes 0 and 1 (16 of 20 samples >= 0.75); tail: classes 2 and 3.
    private static readonly int[] Counts = { 10, 6, 3, 1 };
    private static readonly FsaOptions Small = new() { HeadRatio = 0.75, Nt = 2, Na = 3, Nf = 2, FineTuneIterations = 40, Views = 1 };
    private const int Seed = 3;

    private static double[][] UniformScores(int classes) =>
        Enumerable.Range(0, classes).Select(_ => Enumerable.Repeat(1.0 / classes, classes).ToArray()).ToArray();

    private static PooledFeatureTable Pooled(int[] counts, int viewsPerSample, int channels, int seed) =>
        new(torch.rand(new long[] { counts.Sum(), viewsPerSample, channels }, generator: new torch.Generator((ulong)seed)), counts);

    [Fact]
    public void FsaBatchesHoldNtRealTailNtNaFusedAndNt1PlusNaHeadSamples()
    {
        using var pooled = Pooled(Counts, 2, 4, 1);
        var plan = AugmentationPlan.Create(Counts, UniformScores(4), Small, Seed);
        var sizes = BankSizing.PlannedSizes(plan);

        var batches = HeadFineTuning.FsaBatches(pooled, plan, sizes, out var fusedDraws);

        long realRows = 20 * 2;
        Assert.Equal(16, batches.BatchSize);
        Assert.Equal(40 * 16, batches.Rows.Length);
        var nextBankRow = new Dictionary<int, long> { [2] = realRows, [3] = realRows + sizes[2] };
        for (int iteration = 0; iteration < 40; iteration++)
        {
            var rows = batches.Rows.AsSpan(iteration * 16, 16).ToArray();
            var labels = batches.Labels.AsSpan(iteration * 16, 16).ToArray();
            int realTail = 0, fused = 0, head = 0;
            for (int j = 0; j < 16; j++)
            {
                bool isFused = rows[j] >= realRows;
                bool isTail = labels[j] >= 2;
                if (isFused)
                {
                    fused++;
                    Assert.True(isTail);
                    Assert.Equal(labels[j - 1 - (fused - 1) % 3], labels[j]);   // the fused features follow their real tail sample
                    Assert.Equal(nextBankRow[(int)labels[j]]++, rows[j]);        // each bank used in order, once
                }
                else
                {
                    Assert.Equal(labels[j], pooled.Labels[rows[j] / 2]);
                    if (isTail) realTail++; else head++;
                }
            }
            Assert.Equal((2, 6, 8), (realTail, fused, head));
        }
        Assert.Equal(sizes[2], fusedDraws[2]);
        Assert.Equal(sizes[3], fusedDraws[3]);
        Assert.Equal(1.0, BankSizing.ReuseFactor(fusedDraws, sizes));
        Assert.Equal(new long[] { 0, 1 }, batches.Rows.Where(r => r < realRows).Select(r => r % 2).Distinct().Order());
    }

    [Fact]
    public void AShortBankIsReusedAndReported()
    {
        using var pooled = Pooled(Counts, 2, 4, 1);
        var plan = AugmentationPlan.Create(Counts, UniformScores(4), Small, Seed);
        var planned = BankSizing.PlannedSizes(plan);
        var halved = planned.ToDictionary(kv => kv.Key, kv => Math.Max(1, kv.Value / 2));

        HeadFineTuning.FsaBatches(pooled, plan, halved, out var fusedDraws);

        Assert.InRange(BankSizing.ReuseFactor(fusedDraws, halved), 1.9, 2.1);
    }

    [Fact]
    public void ClassBalancedHeadSlotsDrawEveryHeadClassEquallyAndLeaveTheTailSlotsAlone()
    {
        using var pooled = Pooled(Counts, 1, 4, 1);
        var options = Small with { Views = 0, FineTuneIterations = 1000 };
        var plan = AugmentationPlan.Create(Counts, UniformScores(4), options, Seed);
        var balancedPlan = AugmentationPlan.Create(Counts, UniformScores(4), options with { HeadSampling = GroupSampling.ClassBalanced }, Seed);
        var sizes = BankSizing.PlannedSizes(plan);

        var uniform = HeadFineTuning.FsaBatches(pooled, plan, sizes, out _);
        var balanced = HeadFineTuning.FsaBatches(pooled, balancedPlan, sizes, out _);

        for (int slot = 0; slot < balanced.Rows.Length; slot++)
            if (balanced.Rows[slot] < 20) Assert.Equal(pooled.Labels[balanced.Rows[slot]], balanced.Labels[slot]);
        // 8 head slots per batch, 8,000 in all: uniform over samples gives classes 0 and 1 a 10:6 share (5,000 : 3,000),
        // class-balanced 1:1 (4,000 each; 300 is ~6.7 standard deviations).
        Assert.InRange(uniform.Labels.Count(l => l == 0), 5000 - 300, 5000 + 300);
        Assert.InRange(balanced.Labels.Count(l => l == 0), 4000 - 300, 4000 + 300);
        Assert.InRange(balanced.Labels.Count(l => l == 1), 4000 - 300, 4000 + 300);
        // Within class 1 every sample appears; the tail slots (real and fused) are the same in both schedules.
        Assert.Equal(6, balanced.Rows.Where(r => r >= 10 && r < 16).Distinct().Count());
        for (int iteration = 0; iteration < 1000; iteration++)
            Assert.Equal(uniform.Rows.AsSpan(iteration * 16, 8).ToArray(), balanced.Rows.AsSpan(iteration * 16, 8).ToArray());
    }

    [Fact]
    public void NoAugBatchesFillTheFusedSlotsWithRealTailSamples()
    {
        using var pooled = Pooled(Counts, 1, 4, 2);
        var split = ClassSplit.FromCounts(Counts, Small.HeadRatio);

        var batches = HeadFineTuning.NoAugBatches(pooled, split, Small with { Views = 0 }, Seed);

        for (int iteration = 0; iteration < 40; iteration++)
        {
            var labels = batches.Labels.AsSpan(iteration * 16, 16).ToArray();
            Assert.Equal(8, labels.Count(l => l >= 2));
            Assert.Equal(8, labels.Count(l => l < 2));
        }
        Assert.All(batches.Rows, r => Assert.InRange(r, 0, 19));
        Assert.Equal(batches.Labels, batches.Rows.Select(r => (long)pooled.Labels[r]));
    }

    [Fact]
    public void CrtBatchesAreClassBalanced()
    {
        using var pooled = Pooled(Counts, 1, 4, 2);

        var batches = HeadFineTuning.CrtBatches(pooled, Small with { FineTuneIterations = 1000, Views = 0 }, Seed, SeedStreams.CrtSchedule);

        Assert.Equal(16_000, batches.Labels.Length);
        Assert.Equal(batches.Labels, batches.Rows.Select(r => (long)pooled.Labels[r]));
        for (int c = 0; c < 4; c++)
            Assert.InRange(batches.Labels.Count(l => l == c), 4000 - 300, 4000 + 300);   // ~5.5 standard deviations
        // Within the 1-sample class its only sample is drawn; within class 0 all ten appear.
        Assert.Equal(10, batches.Rows.Where(r => r < 10).Distinct().Count());
    }

    [Fact]
    public void TauNormDividesEachRowByItsNormToThePowerTauAndDropsTheBias()
    {
        using var phaseOne = new ClassifierHead(torch.tensor(new float[] { 3, 4, 0, 2, 1, 0 }, new long[] { 3, 2 }), torch.tensor(new float[] { 1, 2, 3 }));

        using var full = HeadFineTuning.TauNormalized(phaseOne, 1.0);
        using var half = HeadFineTuning.TauNormalized(phaseOne, 0.5);
        using var none = HeadFineTuning.TauNormalized(phaseOne, 0.0);

        Assert.Equal(new float[] { 0.6f, 0.8f, 0, 1, 1, 0 }, FsaTestData.Row(full.Weight));
        Assert.Equal(new float[] { (float)(3 / Math.Sqrt(5)), (float)(4 / Math.Sqrt(5)), 0, (float)Math.Sqrt(2), 1, 0 }, FsaTestData.Row(half.Weight));
        Assert.Equal(new float[] { 3, 4, 0, 2, 1, 0 }, FsaTestData.Row(none.Weight));
        Assert.Equal(new float[] { 0, 0, 0 }, FsaTestData.Row(full.Bias));
    }

    [Fact]
    public void AHeadPredictsTheArgmaxOfItsLogits()
    {
        using var head = new ClassifierHead(torch.tensor(new float[] { 1, 0, 0, 1, -1, -1 }, new long[] { 3, 2 }), torch.tensor(new float[] { 0, 0.5f, 1 }));
        using var features = torch.tensor(new float[] { 2, 1, 1, 2, -1, -1, 0, 0 }, new long[] { 4, 2 });
        // logits: [2, 1.5, -2], [1, 2.5, -2], [-1, -0.5, 3], [0, 0.5, 1]
        Assert.Equal(new[] { 0, 1, 2, 2 }, head.Predict(features));
    }

    [Fact]
    public void CrossEntropyIsThePhaseOneHeadAndCopyIntoWritesAModelsFc()
    {
        using var phaseOne = new ClassifierHead(torch.tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 }), torch.tensor(new float[] { 5, 6 }));
        using var ce = HeadFineTuning.CrossEntropy(phaseOne);
        using var layer = nn.Linear(2, 2);

        ce.CopyInto(layer);

        Assert.Equal(new float[] { 1, 2, 3, 4 }, FsaTestData.Row(layer.weight!));
        Assert.Equal(new float[] { 5, 6 }, FsaTestData.Row(layer.bias!));
        using var back = ClassifierHead.FromLinear(layer);
        Assert.Equal(FsaTestData.Row(phaseOne.Weight), FsaTestData.Row(back.Weight));
    }

    [Fact]
    public void EndToEndFusionAndPhaseTwoTrainEveryHead()
    {
        // Long-tailed synthetic features: heads 0-2, tail 3-5 at h_r 0.9 (380 of 402).
        int[] counts = { 200, 120, 60, 12, 6, 4 };
        using var weight = torch.randn(new long[] { 6, 8 }, generator: new torch.Generator(21));
        using var bias = torch.zeros(6);
        using var features = FsaTestData.Synthetic(counts, 8, 3, 3, views: 1, weight, bias, seed: 22);
        var options = new FsaOptions { Nt = 4, Na = 2, Nf = 2, FineTuneIterations = 300, FineTuneLearningRate = 0.01, Views = 1 };

        var plan = AugmentationPlan.Create(features.ClassCounts(), features.MeanScores(), options, seed: 5);
        Assert.Equal(new[] { 3, 4, 5 }, plan.Split.TailClasses);
        var banks = plan.FusedClasses.Select(c => FeatureFusion.FuseTailClass(
            features.Classes[c], plan.ConfusingClasses[c].Select(k => features.Classes[k]).ToList(),
            plan.TailDrawsOfClass(c), options.Na, options.TauS, options.TauG, plan.FusionSeed(c))).ToList();
        try
        {
            Assert.Equal(300 * 4 * 2, banks.Sum(b => b.Count));
            using var pooled = features.Pooled();
            using var phaseOne = new ClassifierHead(weight, bias);

            using var fsa = HeadFineTuning.TrainFsa(pooled, plan, banks, phaseOne);
            using var noAug = HeadFineTuning.TrainNoAug(pooled, plan, phaseOne);
            using var crt = HeadFineTuning.TrainCrt(pooled, plan, phaseOne);

            Assert.Equal(1.0, fsa.ReuseFactor);
            foreach (var result in new[] { fsa, noAug, crt })
            {
                Assert.Equal(300, result.Losses.Length);
                Assert.True(result.Losses[^50..].Average() < 0.8 * result.Losses[..50].Average(),
                    $"loss should fall: {result.Losses[..50].Average()} -> {result.Losses[^50..].Average()}");
                Assert.Equal(new long[] { 6, 8 }, result.Head.Weight.shape);
                Assert.Equal(new long[] { 6 }, result.Head.Bias.shape);
                using var clean = pooled.Features.select(1, 0);
                Assert.Equal(402, result.Head.Predict(clean).Length);
            }
            Assert.False(FsaTestData.Same(fsa.Head.Weight, noAug.Head.Weight));
        }
        finally
        {
            foreach (var bank in banks) bank.Dispose();
        }
    }

    [Fact]
    public void TheInProcessRunProducesEveryHead()
    {
        int[] counts = { 120, 60, 10, 5 };
        using var weight = torch.randn(new long[] { 4, 6 }, generator: new torch.Generator(31));
        using var bias = torch.zeros(4);
        using var features = FsaTestData.Synthetic(counts, 6, 2, 2, views: 0, weight, bias, seed: 32);
        using var phaseOne = new ClassifierHead(weight, bias);
        var options = new FsaOptions { Nt = 2, Na = 3, Nf = 2, FineTuneIterations = 50 };

        using var run = FsaRun.Run(features, phaseOne, options, seed: 0);

        Assert.Equal(new[] { 2, 3 }, run.Plan.Split.TailClasses);
        Assert.Equal(new[] { 2, 3 }, run.Banks.Select(b => b.ClassId));
        Assert.Equal(50 * 2 * 3, run.Banks.Sum(b => b.Count));
        Assert.Equal(1.0, run.ReuseFactor);
        Assert.Equal(Enum.GetValues<HeadMethod>().Order(), run.Heads.Keys.Order());
        Assert.True(FsaTestData.Same(phaseOne.Weight, run.Heads[HeadMethod.CrossEntropy].Weight));
        using var tauNorm = HeadFineTuning.TauNormalized(phaseOne, 1.0);
        Assert.True(FsaTestData.Same(tauNorm.Weight, run.Heads[HeadMethod.TauNorm].Weight));
        Assert.All(HeadMethods.Trained, m => Assert.Equal(50, run.Selected[m].Configuration.Iterations));
        Assert.False(FsaTestData.Same(phaseOne.Weight, run.Heads[HeadMethod.Fsa].Weight));
    }
}
