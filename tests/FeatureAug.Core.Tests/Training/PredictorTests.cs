using FeatureAug.Core.Data;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Training;

[Collection(GlobalTorchRandomCollection.Name)]
public class PredictorTests
{
    [Fact]
    public void PredictsTheArgMaxOfEvalModeLogitsInDatasetOrder()
    {
        var data = TinyImages.Bands(count: 7, classes: 4, seed: 5);
        var norm = Normalization.FromDataset(data);
        torch.manual_seed(11);
        using var model = ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 4);
        // Make the running statistics differ from batch statistics, so eval mode matters.
        model.train();
        using (var noGrad = torch.no_grad())
        using (var scope = torch.NewDisposeScope())
            model.call(torch.randn(16, 1, 8, 8) * 3 + 1);

        var predicted = Predictor.Predict(model, data, norm, batchSize: 3, torch.CPU);

        Assert.True(model.training, "the model's mode is restored");
        int[] expected;
        model.eval();
        using (var noGrad = torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var logits = model.call(ImageTensors.ToBatch(data, Enumerable.Range(0, data.Count).ToArray(), norm));
            expected = logits.argmax(1).data<long>().ToArray().Select(c => (int)c).ToArray();
        }
        Assert.Equal(expected, predicted);
        Assert.Equal(predicted, Predictor.Predict(model, data, norm, batchSize: 100, torch.CPU));
        Assert.False(model.training, "an eval-mode model stays in eval mode");
    }

    [Fact]
    public void PredictionsFeedTheMetrics()
    {
        var data = TinyImages.Bands(count: 6, classes: 2);
        torch.manual_seed(0);
        using var model = ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 2);
        var predicted = Predictor.Predict(model, data, Normalization.FromDataset(data), batchSize: 4, torch.CPU);
        var metrics = ClassificationMetrics.Compute(predicted, data.Labels, data.ClassCounts(), new[] { 0 });
        Assert.Equal(predicted.Zip(data.Labels).Count(p => p.First == p.Second) / 6.0, metrics.Top1, precision: 12);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        var data = TinyImages.Bands(count: 2);
        using var model = ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 2);
        var norm = Normalization.FromDataset(data);
        Assert.Throws<ArgumentOutOfRangeException>(() => Predictor.Predict(model, data, norm, batchSize: 0, torch.CPU));
        var rgb = new Normalization(new float[] { 0, 0, 0 }, new float[] { 1, 1, 1 });
        Assert.Throws<ArgumentException>(() => Predictor.Predict(model, data, rgb, batchSize: 2, torch.CPU));
    }
}
