using FeatureAug.Core.Runtime;

namespace FeatureAug.Core.Fsa;

/// <summary>
/// The augmentation plan (the PlanAugmentation stage, after Phase I and before fusion and Phase II): everything
/// decided before fusion: the head/tail split, each tail class's confusing classes, and the real tail
/// samples FSA's Phase II will draw, iteration by iteration. Drawing those up front (seeded) sizes every fusion
/// bank exactly: a tail class's bank holds N_a fused features for each time one of its samples is drawn, made
/// from that very sample as in the paper's online augmentation, so Phase II uses each fused feature once.
/// Deterministic in its inputs: a worker that fuses one class can rebuild the same plan from the same inputs (<see cref="Rebuild"/>).
/// Global sample positions are in the class-sorted order of <see cref="ExtractedFeatures"/>.
/// </summary>
public sealed class AugmentationPlan
{
    private readonly Dictionary<int, int[]> _tailDrawsByClass;

    private AugmentationPlan(FsaOptions options, int seed, int[] classCounts, ClassSplit split, IReadOnlyDictionary<int, int[]> confusing,
        int[] tailDrawSamples, int[] tailDrawViews, Dictionary<int, int[]> tailDrawsByClass)
    {
        Options = options;
        Seed = seed;
        ClassCounts = classCounts;
        Split = split;
        ConfusingClasses = confusing;
        TailDrawSamples = tailDrawSamples;
        TailDrawViews = tailDrawViews;
        _tailDrawsByClass = tailDrawsByClass;
        ClassOffsets = new int[classCounts.Length];
        for (int c = 1; c < classCounts.Length; c++) ClassOffsets[c] = ClassOffsets[c - 1] + classCounts[c - 1];
    }

    public FsaOptions Options { get; }
    /// <summary>The run seed: every random choice of the FSA part (tail draws, fusion, Phase-II schedules) derives from it.</summary>
    public int Seed { get; }
    public int[] ClassCounts { get; }
    /// <summary>Global position of each class's first sample.</summary>
    public int[] ClassOffsets { get; }
    public ClassSplit Split { get; }
    /// <summary>Tail class -> its confusing classes, most confused first.</summary>
    public IReadOnlyDictionary<int, int[]> ConfusingClasses { get; }
    /// <summary>Real tail samples of FSA's Phase II (global positions), iteration-major: entry i * N_t + j.</summary>
    public int[] TailDrawSamples { get; }
    /// <summary>The view of each entry of <see cref="TailDrawSamples"/> (0 without extra views).</summary>
    public int[] TailDrawViews { get; }
    /// <summary>
    /// Where the defaults were adapted to this data set (N_f for fewer than 4 classes, the head limited to C - 1
    /// classes), in words for the report; empty when the options applied as they are.
    /// </summary>
    public IReadOnlyList<string> Adaptations
    {
        get
        {
            var adaptations = new List<string>();
            int classes = ClassCounts.Length, nf = Options.EffectiveNf(classes);
            if (Options.Nf is null && nf != FsaOptions.DefaultNf)
                adaptations.Add($"N_f = {nf}: the paper's {FsaOptions.DefaultNf} confusing classes per tail class need at least {FsaOptions.DefaultNf + 1} classes, this data set has {classes}.");
            if (Split.HeadCapped)
                adaptations.Add($"The head holds {Split.HeadClasses.Length} of {classes} classes: h_r {Options.HeadRatio.ToString(System.Globalization.CultureInfo.InvariantCulture)} would put every class in the head and leave nothing to augment.");
            return adaptations;
        }
    }

    /// <summary>Tail classes that hold at least one training sample (the ones that get a bank).</summary>
    public IEnumerable<int> FusedClasses => Split.TailClasses.Where(c => ClassCounts[c] > 0);

    /// <summary>
    /// Creates the plan of a run (the PlanAugmentation stage): validates <paramref name="options"/> against the class
    /// count, splits the classes, ranks each tail class's confusing classes and draws FSA's real tail samples.
    /// <paramref name="meanScores"/> row c is the mean softmax over class c's training samples
    /// (<see cref="ExtractedFeatures.MeanScores"/>; only tail rows are read).
    /// </summary>
    /// <param name="seed">The run seed; the plan carries it to fusion and Phase II.</param>
    /// <exception cref="ArgumentException">Invalid options (every problem listed) or inputs that do not fit each other.</exception>
    public static AugmentationPlan Create(int[] classCounts, double[][] meanScores, FsaOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(classCounts);
        ArgumentNullException.ThrowIfNull(meanScores);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(classCounts.Length);
        if (meanScores.Length != classCounts.Length)
            throw new ArgumentException($"Mean scores have {meanScores.Length} rows for {classCounts.Length} classes.", nameof(meanScores));
        var split = ClassSplit.FromCounts(classCounts, options.HeadRatio);
        var confusing = Fsa.ConfusingClasses.Rank(meanScores, split.TailClasses, options.EffectiveNf(classCounts.Length), options.ConfusingHeadOnly, split.HeadClasses);
        return Build(classCounts, split, confusing, options, seed);
    }

    /// <summary>
    /// Rebuilds, in a later stage, the plan <see cref="Create"/> made: from the class counts and the confusing classes it
    /// ranked (<see cref="ConfusingClasses"/>) with the same options and seed, the same split and draws, without the
    /// C x C mean scores, which at tens of thousands of classes are far too large to hand to every later step. The
    /// options were validated when the plan was created, so they are not validated again; only what ties the inputs
    /// together is checked (cheap invariants that catch inputs of another run).
    /// </summary>
    /// <exception cref="ArgumentException">The confusing classes do not belong to these counts and options.</exception>
    public static AugmentationPlan Rebuild(int[] classCounts, IReadOnlyDictionary<int, int[]> confusingClasses, FsaOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(classCounts);
        ArgumentNullException.ThrowIfNull(confusingClasses);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nt < 1 || options.Na < 1 || options.FineTuneIterations < 1 || options.Views < 0)
            throw new ArgumentException(
                $"These options cannot have made a plan (N_t {options.Nt}, N_a {options.Na}, iterations {options.FineTuneIterations}, views {options.Views}).", nameof(options));
        var split = ClassSplit.FromCounts(classCounts, options.HeadRatio);
        var tail = split.TailClasses.ToHashSet();
        if (!tail.SetEquals(confusingClasses.Keys))
            throw new ArgumentException(
                $"Confusing classes are given for classes [{string.Join(", ", confusingClasses.Keys.Order())}], but the tail under head ratio "
                + $"{options.HeadRatio} is [{string.Join(", ", split.TailClasses)}]: they were ranked for other counts or options.", nameof(confusingClasses));
        foreach (var (tailClass, ranked) in confusingClasses)
        {
            if (ranked is null || ranked.Length > options.EffectiveNf(classCounts.Length)
                || ranked.Any(c => c < 0 || c >= classCounts.Length || c == tailClass) || ranked.Distinct().Count() != ranked.Length)
                throw new ArgumentException(
                    $"Confusing classes of tail class {tailClass} must be at most {options.EffectiveNf(classCounts.Length)} distinct other classes in 0..{classCounts.Length - 1}, "
                    + $"got [{string.Join(", ", ranked ?? [])}].", nameof(confusingClasses));
        }
        return Build(classCounts, split, confusingClasses, options, seed);
    }

    private static AugmentationPlan Build(int[] classCounts, ClassSplit split, IReadOnlyDictionary<int, int[]> confusing, FsaOptions options, int seed)
    {
        var offsets = new int[classCounts.Length];
        for (int c = 1; c < classCounts.Length; c++) offsets[c] = offsets[c - 1] + classCounts[c - 1];
        int viewsPerSample = 1 + options.Views;
        var random = new Random(SeedStreams.Derive(seed, SeedStreams.FsaSchedule));
        var tail = new GroupSampler(split.TailClasses, classCounts, offsets, options.TailSampling, viewsPerSample, random);
        if (tail.IsEmpty)
            throw new InvalidOperationException(
                $"No tail samples: head ratio {options.HeadRatio} puts every populated class in the head, so FSA has nothing to augment.");

        int draws = checked(options.FineTuneIterations * options.Nt);
        var samples = new int[draws];
        var views = new int[draws];
        var labelOf = new int[offsets[^1] + classCounts[^1]];
        for (int c = 0; c < classCounts.Length; c++) Array.Fill(labelOf, c, offsets[c], classCounts[c]);
        var byClass = split.TailClasses.ToDictionary(c => c, _ => new List<int>());
        for (int d = 0; d < draws; d++)
        {
            var (position, view) = tail.Next();
            samples[d] = position;
            views[d] = view;
            int label = labelOf[position];
            byClass[label].Add(position - offsets[label]);
        }
        return new AugmentationPlan(options, seed, classCounts, split, confusing, samples, views, byClass.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
    }

    /// <summary>
    /// The samples of tail class <paramref name="tailClass"/> (indices within the class) in the order Phase II
    /// draws them; its bank holds N_a fused features per entry, in this order.
    /// </summary>
    public int[] TailDrawsOfClass(int tailClass) =>
        _tailDrawsByClass.TryGetValue(tailClass, out var draws)
            ? draws
            : throw new ArgumentException($"Class {tailClass} is not a tail class of this plan.", nameof(tailClass));

    /// <summary>The seed of tail class <paramref name="tailClass"/>'s fusion stream.</summary>
    public int FusionSeed(int tailClass) => SeedStreams.Derive(Seed, SeedStreams.Fusion, tailClass);
}

/// <summary>How large each tail class's fusion bank is, and how often Phase II reused bank entries.</summary>
public static class BankSizing
{
    /// <summary>
    /// Bank size of every fused tail class under <paramref name="plan"/>: N_a times the number of Phase-II draws of
    /// that class's samples, so each fused feature is drawn exactly once (reuse factor 1).
    /// </summary>
    public static IReadOnlyDictionary<int, int> PlannedSizes(AugmentationPlan plan) =>
        plan.FusedClasses.ToDictionary(c => c, c => plan.TailDrawsOfClass(c).Length * plan.Options.Na);

    /// <summary>
    /// The expected bank size iterations x N_t x N_a x n_c / n_tail of a class with <paramref name="classCount"/>
    /// of the <paramref name="tailCount"/> tail samples: what <see cref="PlannedSizes"/> fluctuates around.
    /// </summary>
    public static double ExpectedSize(int iterations, int nt, int na, int classCount, int tailCount) =>
        tailCount <= 0 ? 0 : (double)iterations * nt * na * classCount / tailCount;

    /// <summary>
    /// Realised reuse: the largest ratio, over classes, of fused features drawn to bank size. Above 1.0 some
    /// fused features were used more than once (a warning). 0 when nothing was drawn.
    /// </summary>
    public static double ReuseFactor(IReadOnlyDictionary<int, int> fusedDraws, IReadOnlyDictionary<int, int> bankSizes)
    {
        double worst = 0;
        foreach (var (tailClass, draws) in fusedDraws)
        {
            if (draws == 0) continue;
            if (!bankSizes.TryGetValue(tailClass, out int size) || size == 0)
                return double.PositiveInfinity;
            worst = Math.Max(worst, (double)draws / size);
        }
        return worst;
    }
}
