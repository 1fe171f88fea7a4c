using FeatureAug.Core.Data;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Tests.Fsa;
using TorchSharp;

namespace FeatureAug.Core.Tests.Evaluation;

public sealed class EvaluationFeaturesTests
{
    [Fact]
    public void EveryHeadIsMeasuredOnTheSamePooledFeaturesAsAPredictionWouldBe()
    {
        torch.manual_seed(3);
        using var model = new TinyFeatureClassifier(inputChannels: 1, featureChannels: 4, classes: 3);
        var data = FsaTestData.Images([0, 1, 2, 0, 1, 2, 2, 0], classes: 3, seed: 5);
        var normalization = Normalization.FromDataset(data);
        int[] trainCounts = [5, 3, 1];
        int[] headClasses = [0];
        using var head = ClassifierHead.FromLinear(model.Classifier);

        using var test = EvaluationFeatures.Extract(model, data, normalization, batchSize: 3, torch.CPU);
        var measured = test.Measure(head, trainCounts, headClasses);

        using var pooled = FeatureExtractor.ExtractPooled(model, data, normalization, batchSize: 3, torch.CPU);
        var expected = ClassificationMetrics.Compute(head.Predict(pooled), data.Labels, trainCounts, headClasses);
        Assert.Equal(expected.Top1, measured.Top1);
        Assert.Equal(expected.PerClass, measured.PerClass);
        Assert.Equal(expected.TailTop1, measured.TailTop1);
    }
}
