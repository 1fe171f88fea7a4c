using FeatureAug.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Training;

[Collection(GlobalTorchRandomCollection.Name)]
public class LossesTests
{
    [Fact]
    public void FocalLossMatchesHandComputation()
    {
        using var scope = torch.NewDisposeScope();
        // Sample 0: logits (ln 3, 0), true class 0, so p_t = 3/4 and the loss is (1/4)^2 * ln(4/3) = 0.0179801.
        // Sample 1: logits (0, 0), true class 1, so p_t = 1/2 and the loss is (1/2)^2 * ln 2 = 0.1732868.
        var logits = torch.tensor(new float[] { MathF.Log(3), 0, 0, 0 }, new long[] { 2, 2 });
        var targets = torch.tensor(new long[] { 0, 1 });
        double expected = (Math.Pow(0.25, 2) * Math.Log(4.0 / 3) + Math.Pow(0.5, 2) * Math.Log(2)) / 2;
        Assert.Equal(0.0956335, expected, precision: 7);
        Assert.Equal(expected, Losses.Focal(logits, targets, gamma: 2).item<float>(), precision: 6);
    }

    [Fact]
    public void FocalLossWithGammaZeroIsCrossEntropy()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var logits = torch.randn(6, 4);
        var targets = torch.tensor(new long[] { 0, 3, 2, 1, 1, 0 });
        float crossEntropy = nn.functional.cross_entropy(logits, targets).item<float>();
        Assert.Equal(crossEntropy, Losses.Focal(logits, targets, gamma: 0).item<float>(), precision: 6);
        var options = new TrainingOptions { Loss = TrainingLoss.Focal, FocalGamma = 0 };
        Assert.Equal(crossEntropy, Losses.Compute(options, logits, targets).item<float>(), precision: 6);
    }

    [Fact]
    public void FocalLossGradientMatchesHandComputation()
    {
        using var scope = torch.NewDisposeScope();
        // One sample, two classes, logits (z, 0) with true class 0: p = sigmoid(z), L = -(1-p)^2 ln p.
        // dL/dz = dL/dp * p(1-p), dL/dp = 2(1-p) ln p - (1-p)^2 / p.
        double z = 0.7, p = 1 / (1 + Math.Exp(-z));
        double expected = (2 * (1 - p) * Math.Log(p) - Math.Pow(1 - p, 2) / p) * p * (1 - p);
        var logits = torch.tensor(new float[] { (float)z, 0 }, new long[] { 1, 2 }, requires_grad: true);
        Losses.Focal(logits, torch.tensor(new long[] { 0 }), gamma: 2).backward();
        Assert.Equal(expected, logits.grad!.data<float>()[0], precision: 6);
        Assert.Equal(-expected, logits.grad!.data<float>()[1], precision: 6);
    }
}
