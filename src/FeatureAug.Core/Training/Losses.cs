using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Training;

/// <summary>Classification losses averaged over the batch.</summary>
public static class Losses
{
    /// <summary>
    /// Focal loss (Lin et al., 2017) without class weights: mean over samples of
    /// -(1 - p_t)^gamma * log p_t, where p_t is the softmax probability of the true class.
    /// gamma = 0 gives cross-entropy.
    /// </summary>
    /// <param name="logits">N x C scores.</param>
    /// <param name="targets">N class indices (int64).</param>
    public static Tensor Focal(Tensor logits, Tensor targets, double gamma)
    {
        if (gamma < 0) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The focal exponent must be zero or positive.");
        using var scope = NewDisposeScope();
        var logProbTrue = nn.functional.log_softmax(logits, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
        var modulation = (1 - logProbTrue.exp()).pow(gamma);
        return (-(modulation * logProbTrue)).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The loss the options ask for.</summary>
    public static Tensor Compute(TrainingOptions options, Tensor logits, Tensor targets) => options.Loss switch
    {
        TrainingLoss.CrossEntropy => nn.functional.cross_entropy(logits, targets),
        TrainingLoss.Focal => Focal(logits, targets, options.FocalGamma),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Loss, "Unknown loss."),
    };
}
