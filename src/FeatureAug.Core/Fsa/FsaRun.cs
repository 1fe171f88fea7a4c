using System.Diagnostics;
using FeatureAug.Core.Evaluation;

namespace FeatureAug.Core.Fsa;

/// <summary>Everything the in-process FSA part produced. Owns the heads and banks.</summary>
public sealed class FsaRunResult : IDisposable
{
    internal FsaRunResult(AugmentationPlan plan, IReadOnlyList<FusionBank> banks, IReadOnlyDictionary<HeadMethod, SelectedHead> selected,
        TimeSpan fuseTime, TimeSpan fineTuneTime)
    {
        Plan = plan;
        Banks = banks;
        Selected = selected;
        Heads = selected.ToDictionary(kv => kv.Key, kv => kv.Value.Head);
        FuseTime = fuseTime;
        FineTuneTime = fineTuneTime;
    }

    public AugmentationPlan Plan { get; }
    /// <summary>One bank per fused tail class, in class order.</summary>
    public IReadOnlyList<FusionBank> Banks { get; }
    /// <summary>Each method's head with the configuration it was chosen with.</summary>
    public IReadOnlyDictionary<HeadMethod, SelectedHead> Selected { get; }
    public IReadOnlyDictionary<HeadMethod, ClassifierHead> Heads { get; }
    /// <summary>FSA's fused features drawn per bank entry, worst class; above 1.0 is a warning.</summary>
    public double ReuseFactor => Selected.TryGetValue(HeadMethod.Fsa, out var fsa) ? fsa.ReuseFactor : 0;
    /// <summary>Planning and fusion of every tail class.</summary>
    public TimeSpan FuseTime { get; }
    /// <summary>Phase II of every method.</summary>
    public TimeSpan FineTuneTime { get; }

    public void Dispose()
    {
        foreach (var head in Selected.Values) head.Dispose();
        foreach (var bank in Banks) bank.Dispose();
    }
}

/// <summary>
/// The whole FSA part in one process, after extraction: plan, fuse every tail class, then every method's head (or
/// those of the <c>methods</c> asked for), each chosen on <c>validation</c> by <see cref="HeadSelection"/> when it is
/// given. The benchmarks and the tests run it; the workflow runs the same steps as separate activities
/// (<see cref="AugmentationPlan.Create"/>, <see cref="FeatureFusion.FuseTailClass"/> per class, <see cref="HeadFineTuning"/>
/// per method).
/// </summary>
public static class FsaRun
{
    public static FsaRunResult Run(
        ExtractedFeatures features, ClassifierHead phaseOne, FsaOptions options, int seed, IReadOnlyCollection<HeadMethod>? methods = null,
        EvaluationFeatures? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(phaseOne);
        ArgumentNullException.ThrowIfNull(options);
        bool Wanted(HeadMethod method) => methods is null || methods.Contains(method);
        var fuseClock = Stopwatch.StartNew();
        var plan = AugmentationPlan.Create(features.ClassCounts(), features.MeanScores(), options, seed);
        List<FusionBank> banks = [];
        var selected = new Dictionary<HeadMethod, SelectedHead>();
        try
        {
            if (Wanted(HeadMethod.Fsa)) banks = FeatureFusion.FuseAll(plan, features, cancellationToken);
            var fuseTime = fuseClock.Elapsed;

            var fineTuneClock = Stopwatch.StartNew();
            using var pooled = features.Pooled();
            var counts = plan.ClassCounts;
            if (Wanted(HeadMethod.CrossEntropy))
                selected[HeadMethod.CrossEntropy] = new SelectedHead(HeadFineTuning.CrossEntropy(phaseOne), new HeadConfiguration(null, null, null, null, []));
            foreach (var method in HeadMethods.PostHoc.Where(Wanted))
                selected[method] = PostHoc(method, phaseOne, counts, options, validation);
            foreach (var method in HeadMethods.Trained.Where(Wanted))
                selected[method] = HeadSelection.SelectTrained(method, options,
                    schedule => HeadFineTuning.Train(method, pooled, plan, banks, phaseOne, schedule, cancellationToken),
                    validation, counts, cancellationToken);
            return new FsaRunResult(plan, banks, selected, fuseTime, fineTuneClock.Elapsed);
        }
        catch
        {
            foreach (var head in selected.Values) head.Dispose();
            foreach (var bank in banks) bank.Dispose();
            throw;
        }
    }

    /// <summary>tau-norm or logit adjustment of the Phase-I FC, tau chosen on <paramref name="validation"/> when given.</summary>
    public static SelectedHead PostHoc(HeadMethod method, ClassifierHead phaseOne, IReadOnlyList<int> trainCounts, FsaOptions options, EvaluationFeatures? validation) =>
        method switch
        {
            HeadMethod.TauNorm => HeadSelection.SelectPostHoc(tau => HeadFineTuning.TauNormalized(phaseOne, tau), HeadSelection.TauNormGrid, options.TauNorm, validation, trainCounts),
            HeadMethod.LogitAdjust => HeadSelection.SelectPostHoc(tau => HeadFineTuning.LogitAdjusted(phaseOne, trainCounts, tau), HeadSelection.LogitAdjustGrid, options.LogitAdjustTau, validation, trainCounts),
            _ => throw new ArgumentException($"{method.Display()} is not a post-hoc method.", nameof(method)),
        };
}
