using System.Diagnostics;

namespace FeatureAug.Core.Fsa;

/// <summary>Everything the in-process FSA part produced. Owns the heads and banks.</summary>
public sealed class FsaRunResult : IDisposable
{
    internal FsaRunResult(AugmentationPlan plan, IReadOnlyList<FusionBank> banks, IReadOnlyDictionary<HeadMethod, ClassifierHead> heads,
        IReadOnlyDictionary<HeadMethod, float[]> losses, double reuseFactor, TimeSpan fuseTime, TimeSpan fineTuneTime)
    {
        Plan = plan;
        Banks = banks;
        Heads = heads;
        Losses = losses;
        ReuseFactor = reuseFactor;
        FuseTime = fuseTime;
        FineTuneTime = fineTuneTime;
    }

    public AugmentationPlan Plan { get; }
    /// <summary>One bank per fused tail class, in class order.</summary>
    public IReadOnlyList<FusionBank> Banks { get; }
    public IReadOnlyDictionary<HeadMethod, ClassifierHead> Heads { get; }
    /// <summary>Per-iteration training loss of the trained methods (NoAug, Crt, Fsa).</summary>
    public IReadOnlyDictionary<HeadMethod, float[]> Losses { get; }
    /// <summary>Fused features drawn per bank entry, worst class; above 1.0 is a warning.</summary>
    public double ReuseFactor { get; }
    /// <summary>Planning and fusion of every tail class.</summary>
    public TimeSpan FuseTime { get; }
    /// <summary>Phase II of every method.</summary>
    public TimeSpan FineTuneTime { get; }

    public void Dispose()
    {
        foreach (var head in Heads.Values) head.Dispose();
        foreach (var bank in Banks) bank.Dispose();
    }
}

/// <summary>
/// The whole FSA part in one process, after extraction: plan, fuse every tail class, Phase II of every method (or of
/// the <c>methods</c> asked for). The benchmarks and the tests run it; 
/// The workflow runs the same steps as separate activities (<see cref="AugmentationPlan.Create"/>,
/// <see cref="FeatureFusion.FuseTailClass"/> per class, <see cref="HeadFineTuning"/> per method).
/// </summary>
public static class FsaRun
{
    public static FsaRunResult Run(
        ExtractedFeatures features, ClassifierHead phaseOne, FsaOptions options, int seed, IReadOnlyCollection<HeadMethod>? methods = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(phaseOne);
        ArgumentNullException.ThrowIfNull(options);
        bool Wanted(HeadMethod method) => methods is null || methods.Contains(method);
        var fuseClock = Stopwatch.StartNew();
        var plan = AugmentationPlan.Create(features.ClassCounts(), features.MeanScores(), options, seed);
        List<FusionBank> banks = [];
        var heads = new Dictionary<HeadMethod, ClassifierHead>();
        try
        {
            if (Wanted(HeadMethod.Fsa)) banks = FeatureFusion.FuseAll(plan, features, cancellationToken);
            var fuseTime = fuseClock.Elapsed;

            var fineTuneClock = Stopwatch.StartNew();
            using var pooled = features.Pooled();
            if (Wanted(HeadMethod.CrossEntropy)) heads[HeadMethod.CrossEntropy] = HeadFineTuning.CrossEntropy(phaseOne);
            if (Wanted(HeadMethod.TauNorm)) heads[HeadMethod.TauNorm] = HeadFineTuning.TauNormalized(phaseOne, options.TauNorm);
            var losses = new Dictionary<HeadMethod, float[]>();
            if (Wanted(HeadMethod.NoAug))
            using (var noAug = HeadFineTuning.TrainNoAug(pooled, plan, phaseOne, cancellationToken))
            {
                heads[HeadMethod.NoAug] = noAug.Head.Clone();
                losses[HeadMethod.NoAug] = noAug.Losses;
            }
            if (Wanted(HeadMethod.Crt))
            using (var crt = HeadFineTuning.TrainCrt(pooled, plan, phaseOne, cancellationToken))
            {
                heads[HeadMethod.Crt] = crt.Head.Clone();
                losses[HeadMethod.Crt] = crt.Losses;
            }
            double reuseFactor = 0;
            if (Wanted(HeadMethod.Fsa))
            using (var fsa = HeadFineTuning.TrainFsa(pooled, plan, banks, phaseOne, cancellationToken))
            {
                heads[HeadMethod.Fsa] = fsa.Head.Clone();
                losses[HeadMethod.Fsa] = fsa.Losses;
                reuseFactor = fsa.ReuseFactor;
            }
            return new FsaRunResult(plan, banks, heads, losses, reuseFactor, fuseTime, fineTuneClock.Elapsed);
        }
        catch
        {
            foreach (var head in heads.Values) head.Dispose();
            foreach (var bank in banks) bank.Dispose();
            throw;
        }
    }
}
