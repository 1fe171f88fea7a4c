using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Tests.Fsa;
using TorchSharp;

namespace FeatureAug.Core.Tests.Evaluation;

public sealed class HeadSelectionTests
{
    private static readonly int[] Counts = { 40, 20, 10, 5 };

    private static ExtractedFeatures Features(TorchSharp.torch.Tensor weight, TorchSharp.torch.Tensor bias) =>
        FsaTestData.Synthetic(Counts, 3, 2, 2, 0, weight, bias, seed: 4);

    [Fact]
    public void ATrainedMethodIsChosenOverRatesAndSnapshotsByBalancedValidationAccuracy()
    {
        using var weight = torch.zeros(4, 3);
        using var bias = torch.zeros(4);
        using var features = Features(weight, bias);
        using var pooled = features.Pooled();
        // A Phase-I FC whose bias favours class 0 by far predicts it for everything: 25 % balanced; a rate too small
        // to move it stays there.
        using var favoursZero = torch.tensor(new float[] { 10, 0, 0, 0 });
        using var phaseOne = new ClassifierHead(weight, favoursZero);
        var options = new FsaOptions { HeadRatio = 0.8, Nt = 4, Na = 1, Nf = 1, FineTuneIterations = 200, LearningRateGrid = [1e-9, 0.5] };
        var plan = AugmentationPlan.Create(features.ClassCounts(), features.MeanScores(), options, seed: 1);
        using var validation = EvaluationFeatures.FromPooled(pooled.Features.select(1, 0), pooled.Labels);

        using var chosen = HeadSelection.SelectTrained(HeadMethod.Crt, options,
            schedule => HeadFineTuning.TrainCrt(pooled, plan, phaseOne, schedule), validation, Counts);

        var configuration = chosen.Configuration;
        Assert.Equal(6, configuration.Tried.Count);   // 2 rates x snapshots at 50, 100, 200
        Assert.Equal(new int?[] { 50, 100, 200, 50, 100, 200 }, configuration.Tried.Select(t => t.Iterations));
        Assert.All(configuration.Tried.Take(3), t => Assert.Equal(0.25, t.ValidationTop1, 6));
        Assert.Equal(0.5, configuration.LearningRate);
        Assert.Equal(configuration.Tried.Max(t => t.ValidationTop1), configuration.ValidationTop1);
        Assert.Equal(configuration.ValidationTop1!.Value, validation.Measure(chosen.Head, Counts, []).Top1, 12);
        Assert.Contains("best of 6 on validation", configuration.Describe());
    }

    [Fact]
    public void WithoutValidationAMethodTrainsOnceAtItsDefaultRate()
    {
        using var weight = torch.zeros(4, 3);
        using var bias = torch.zeros(4);
        using var features = Features(weight, bias);
        using var pooled = features.Pooled();
        using var phaseOne = new ClassifierHead(weight, bias);
        var options = new FsaOptions { HeadRatio = 0.8, Nt = 4, Na = 1, Nf = 1, FineTuneIterations = 20 };
        var plan = AugmentationPlan.Create(features.ClassCounts(), features.MeanScores(), options, seed: 1);
        var schedules = new List<PhaseTwoSchedule>();

        using var chosen = HeadSelection.SelectTrained(HeadMethod.CrtReinit, options, schedule =>
        {
            schedules.Add(schedule);
            return HeadFineTuning.TrainCrtReinit(pooled, plan, phaseOne, schedule);
        }, validation: null, Counts);

        var only = Assert.Single(schedules);
        Assert.Equal(options.CrtReinitLearningRate, only.LearningRate);
        Assert.Equal(new[] { 20 }, only.Snapshots);
        Assert.Null(chosen.Configuration.ValidationTop1);
        Assert.Empty(chosen.Configuration.Tried);
    }

    [Fact]
    public void PostHocTauIsTheFirstBestOfItsGrid()
    {
        var generator = new torch.Generator(2);
        using var weight = torch.randn(4, 3, generator: generator);
        using var bias = torch.randn(4, generator: generator);
        using var phaseOne = new ClassifierHead(weight, bias);
        using var pooledValidation = torch.randn(40, 3, generator: generator);
        var labels = Enumerable.Range(0, 40).Select(i => i % 4).ToArray();
        using var validation = EvaluationFeatures.FromPooled(pooledValidation, labels);

        using var chosen = HeadSelection.SelectPostHoc(tau => HeadFineTuning.LogitAdjusted(phaseOne, Counts, tau), HeadSelection.LogitAdjustGrid, 1.0, validation, Counts);

        var scores = HeadSelection.LogitAdjustGrid.Select(tau =>
        {
            using var head = HeadFineTuning.LogitAdjusted(phaseOne, Counts, tau);
            return validation.Measure(head, Counts, []).Top1;
        }).ToArray();
        double best = scores.Max();
        Assert.Equal(HeadSelection.LogitAdjustGrid[Array.IndexOf(scores, best)], chosen.Configuration.Tau);
        Assert.Equal(best, chosen.Configuration.ValidationTop1);
        // Equal counts make the prior flat: every tau ties and the first, 0, wins.
        using var flat = HeadSelection.SelectPostHoc(tau => HeadFineTuning.LogitAdjusted(phaseOne, [5, 5, 5, 5], tau), HeadSelection.LogitAdjustGrid, 1.0, validation, Counts);
        Assert.Equal(0, flat.Configuration.Tau);
        // Without validation the default tau is used as it is.
        using var fixedTau = HeadSelection.SelectPostHoc(tau => HeadFineTuning.LogitAdjusted(phaseOne, Counts, tau), HeadSelection.LogitAdjustGrid, 1.0, null, Counts);
        Assert.Equal((1.0, (double?)null), (fixedTau.Configuration.Tau!.Value, fixedTau.Configuration.ValidationTop1));
    }

    [Fact]
    public void TheBestMethodWinsAndTiesGoToTheEarlierMethodInReportOrder()
    {
        var scores = new Dictionary<HeadMethod, double?>
        {
            [HeadMethod.Fsa] = 0.8, [HeadMethod.Crt] = 0.8, [HeadMethod.CrossEntropy] = 0.7, [HeadMethod.Lws] = null,
        };
        Assert.Equal(HeadMethod.Crt, HeadSelection.Best(scores));
        scores[HeadMethod.Fsa] = 0.81;
        Assert.Equal(HeadMethod.Fsa, HeadSelection.Best(scores));
        Assert.Throws<ArgumentException>(() => HeadSelection.Best(new Dictionary<HeadMethod, double?> { [HeadMethod.Fsa] = null }));
    }

    [Fact]
    public void SnapshotsAreAQuarterAHalfAndAllOfTheIterations()
    {
        Assert.Equal(new[] { 1600, 3200, 6400 }, HeadSelection.SnapshotIterations(6400));
        Assert.Equal(new[] { 1, 2, 5 }, HeadSelection.SnapshotIterations(5));
        Assert.Equal(new[] { 1, 2 }, HeadSelection.SnapshotIterations(2));
        Assert.Equal(new[] { 1 }, HeadSelection.SnapshotIterations(1));
    }
}
