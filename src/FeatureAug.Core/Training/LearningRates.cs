namespace FeatureAug.Core.Training;

/// <summary>The learning rate of every optimisation step: linear warm-up times the step or cosine schedule.</summary>
public static class LearningRates
{
    /// <summary>
    /// Rate used by global step <paramref name="step"/> (0-based, counted over all epochs).
    /// Warm-up: step s of the first WarmupEpochs * stepsPerEpoch steps uses (s + 1) / warmupSteps of the
    /// scheduled rate. Step: LearningRate * Gamma^(milestones m with m &lt;= epoch index; <see cref="TrainingOptions.EffectiveMilestones"/>), i.e. a milestone
    /// of 150 lowers the rate from the 151st epoch on, as MultiStepLR stepped once per epoch.
    /// Cosine: LearningRate * (1 + cos(pi * t / T)) / 2, with t the steps since warm-up and T the steps
    /// from the end of warm-up to the end of training.
    /// </summary>
    public static double At(TrainingOptions options, long step, int stepsPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (stepsPerEpoch < 1)
            throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), stepsPerEpoch, "Steps per epoch must be at least 1.");
        long totalSteps = (long)options.Epochs * stepsPerEpoch;
        if (step < 0 || step >= totalSteps)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"Step must be in 0..{totalSteps - 1} for {options.Epochs} epochs of {stepsPerEpoch} steps.");

        long warmupSteps = (long)options.WarmupEpochs * stepsPerEpoch;
        double scheduled;
        if (options.Schedule == LearningRateSchedule.Step)
        {
            long epochIndex = step / stepsPerEpoch;
            int passed = options.EffectiveMilestones.Count(m => m <= epochIndex);
            scheduled = options.LearningRate * Math.Pow(options.Gamma, passed);
        }
        else
        {
            long sinceWarmup = Math.Max(0, step - warmupSteps);
            double progress = (double)sinceWarmup / (totalSteps - warmupSteps);
            scheduled = options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress));
        }

        return step < warmupSteps ? scheduled * (step + 1) / warmupSteps : scheduled;
    }
}
