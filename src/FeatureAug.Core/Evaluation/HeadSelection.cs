using System.Globalization;
using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Evaluation;

/// <summary>One configuration a head was tried with, and its balanced accuracy on the validation split.</summary>
public sealed record HeadCandidate(double? LearningRate, int? Iterations, double? Tau, double ValidationTop1);

/// <summary>
/// How a method's head was made: the learning rate and iterations (trained methods) or tau (post-hoc methods) it
/// was chosen with, its validation balanced accuracy (null without a validation split) and every configuration tried.
/// </summary>
public sealed record HeadConfiguration(double? LearningRate, int? Iterations, double? Tau, double? ValidationTop1, IReadOnlyList<HeadCandidate> Tried)
{
    /// <summary>"lr 0.01, 3200 iterations" or "tau 1.25", and how it was chosen.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (LearningRate is { } lr) parts.Add("lr " + lr.ToString("0.####", CultureInfo.InvariantCulture));
        if (Iterations is { } iterations) parts.Add(iterations.ToString(CultureInfo.InvariantCulture) + " iterations");
        if (Tau is { } tau) parts.Add("tau " + tau.ToString("0.##", CultureInfo.InvariantCulture));
        string what = parts.Count == 0 ? "as trained in Phase I" : string.Join(", ", parts);
        return Tried.Count > 1 ? $"{what} (best of {Tried.Count} on validation)" : what;
    }
}

/// <summary>A chosen head with its configuration and the training figures the report shows.</summary>
public sealed class SelectedHead : IDisposable
{
    public SelectedHead(ClassifierHead head, HeadConfiguration configuration, float finalLoss = float.NaN, double reuseFactor = 0, TimeSpan elapsed = default)
    {
        Head = head;
        Configuration = configuration;
        FinalLoss = finalLoss;
        ReuseFactor = reuseFactor;
        Elapsed = elapsed;
    }

    public ClassifierHead Head { get; }
    public HeadConfiguration Configuration { get; }
    /// <summary>Trained methods: the loss of the chosen training's last iteration.</summary>
    public float FinalLoss { get; }
    /// <summary>FSA: the chosen training's <see cref="BankSizing.ReuseFactor"/>.</summary>
    public double ReuseFactor { get; }
    /// <summary>Every training tried, together.</summary>
    public TimeSpan Elapsed { get; }

    public void Dispose() => Head.Dispose();
}

/// <summary>
/// The one rule by which every method's free parameters are chosen, on the validation split and never the test set:
/// a trained method is trained once per learning rate of <see cref="FsaOptions.LearningRateGrid"/>, keeping its head
/// after 1/4, 1/2 and all of the iterations; a post-hoc method tries each tau of its grid. The configuration with the
/// best balanced validation accuracy wins; ties go to the earlier one (smaller rate, fewer iterations, smaller tau).
/// Without a validation split each method keeps its default configuration.
/// </summary>
public static class HeadSelection
{
    /// <summary>tau-norm's grid: 0, 0.1, ..., 1.</summary>
    public static IReadOnlyList<double> TauNormGrid { get; } = Enumerable.Range(0, 11).Select(i => i / 10.0).ToArray();

    /// <summary>Logit adjustment's grid: 0, 0.25, ..., 2.</summary>
    public static IReadOnlyList<double> LogitAdjustGrid { get; } = Enumerable.Range(0, 9).Select(i => i / 4.0).ToArray();

    /// <summary>The iteration counts a training of <paramref name="iterations"/> keeps a head at: 1/4, 1/2 and all of them.</summary>
    public static int[] SnapshotIterations(int iterations) =>
        new[] { iterations / 4, iterations / 2, iterations }.Where(i => i >= 1).Distinct().ToArray();

    /// <summary>
    /// Chooses a trained method's head. <paramref name="train"/> runs the method's Phase II under a schedule.
    /// </summary>
    /// <param name="validation">The validation features, or null to train once at the default rate.</param>
    public static SelectedHead SelectTrained(
        HeadMethod method, FsaOptions options, Func<PhaseTwoSchedule, HeadTrainingResult> train,
        EvaluationFeatures? validation, IReadOnlyList<int> trainCounts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        int iterations = options.FineTuneIterations;
        if (validation is null || validation.Count == 0)
        {
            double rate = HeadFineTuning.DefaultLearningRate(method, options);
            var single = train(PhaseTwoSchedule.Single(rate, iterations));
            return new SelectedHead(single.Head.Clone(), new HeadConfiguration(rate, iterations, null, null, []),
                LastLoss(single), single.ReuseFactor, single.Elapsed);
        }

        var tried = new List<HeadCandidate>();
        ClassifierHead? best = null;
        HeadCandidate? bestCandidate = null;
        float bestLoss = float.NaN;
        double bestReuse = 0;
        var elapsed = TimeSpan.Zero;
        try
        {
            foreach (double rate in options.LearningRateGrid)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var result = train(new PhaseTwoSchedule(rate, SnapshotIterations(iterations)));
                elapsed += result.Elapsed;
                foreach (var snapshot in result.Snapshots)
                {
                    // A diverged training cannot win, however its NaN predictions happen to score.
                    double score = snapshot.Head.IsFinite ? Score(snapshot.Head, validation, trainCounts) : double.NegativeInfinity;
                    var candidate = new HeadCandidate(rate, snapshot.Iterations, null, score);
                    tried.Add(candidate);
                    if (bestCandidate is null || score > bestCandidate.ValidationTop1)
                    {
                        best?.Dispose();
                        best = snapshot.Head.Clone();
                        bestCandidate = candidate;
                        bestLoss = result.Losses[snapshot.Iterations - 1];
                        bestReuse = result.ReuseFactor;
                    }
                }
            }
            var chosen = bestCandidate!;
            return new SelectedHead(best!, new HeadConfiguration(chosen.LearningRate, chosen.Iterations, null, chosen.ValidationTop1, tried),
                bestLoss, bestReuse, elapsed);
        }
        catch
        {
            best?.Dispose();
            throw;
        }
    }

    /// <summary>Chooses a post-hoc method's tau: <paramref name="make"/> builds the head for a tau.</summary>
    public static SelectedHead SelectPostHoc(
        Func<double, ClassifierHead> make, IReadOnlyList<double> grid, double defaultTau, EvaluationFeatures? validation, IReadOnlyList<int> trainCounts)
    {
        ArgumentNullException.ThrowIfNull(make);
        ArgumentNullException.ThrowIfNull(grid);
        if (validation is null || validation.Count == 0)
            return new SelectedHead(make(defaultTau), new HeadConfiguration(null, null, defaultTau, null, []));
        var tried = new List<HeadCandidate>();
        ClassifierHead? best = null;
        HeadCandidate? bestCandidate = null;
        try
        {
            foreach (double tau in grid)
            {
                var head = make(tau);
                var candidate = new HeadCandidate(null, null, tau, head.IsFinite ? Score(head, validation, trainCounts) : double.NegativeInfinity);
                tried.Add(candidate);
                if (bestCandidate is null || candidate.ValidationTop1 > bestCandidate.ValidationTop1)
                {
                    best?.Dispose();
                    (best, bestCandidate) = (head, candidate);
                }
                else
                {
                    head.Dispose();
                }
            }
            return new SelectedHead(best!, new HeadConfiguration(null, null, bestCandidate!.Tau, bestCandidate.ValidationTop1, tried));
        }
        catch
        {
            best?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The head a run puts forward: the method with the best balanced validation accuracy, ties to the earlier method in
    /// report order (<see cref="HeadMethods.All"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No method has a validation score.</exception>
    public static HeadMethod Best(IReadOnlyDictionary<HeadMethod, double?> validationTop1)
    {
        ArgumentNullException.ThrowIfNull(validationTop1);
        HeadMethod? best = null;
        foreach (var method in HeadMethods.All)
        {
            if (!validationTop1.TryGetValue(method, out var score) || score is null) continue;
            if (best is null || score > validationTop1[best.Value]) best = method;
        }
        return best ?? throw new ArgumentException("No method was measured on a validation split.", nameof(validationTop1));
    }

    private static double Score(ClassifierHead head, EvaluationFeatures validation, IReadOnlyList<int> trainCounts) =>
        validation.Measure(head, trainCounts, Array.Empty<int>()).Top1;

    private static float LastLoss(HeadTrainingResult result) => result.Losses.Length > 0 ? result.Losses[^1] : float.NaN;
}
