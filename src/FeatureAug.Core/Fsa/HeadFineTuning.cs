using System.Diagnostics;
using FeatureAug.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>A head trained in Phase II and how the training went.</summary>
public sealed class HeadTrainingResult : IDisposable
{
    internal HeadTrainingResult(IReadOnlyList<HeadSnapshot> snapshots, float[] losses, IReadOnlyDictionary<int, int> fusedDraws, double reuseFactor, TimeSpan elapsed)
    {
        Snapshots = snapshots;
        Head = snapshots[^1].Head;
        Losses = losses;
        FusedDraws = fusedDraws;
        ReuseFactor = reuseFactor;
        Elapsed = elapsed;
    }

    /// <summary>The head after the last iteration (the last snapshot).</summary>
    public ClassifierHead Head { get; }
    /// <summary>The head after each iteration count the schedule asked for, in increasing order; the last is <see cref="Head"/>.</summary>
    public IReadOnlyList<HeadSnapshot> Snapshots { get; }
    /// <summary>Cross-entropy of each iteration's batch, before that iteration's step.</summary>
    public float[] Losses { get; }
    /// <summary>FSA only: fused features drawn per tail class (empty for the other methods).</summary>
    public IReadOnlyDictionary<int, int> FusedDraws { get; }
    /// <summary>FSA only: <see cref="BankSizing.ReuseFactor"/> of this training; above 1.0 some fused features were reused.</summary>
    public double ReuseFactor { get; }
    public TimeSpan Elapsed { get; }

    public void Dispose()
    {
        foreach (var snapshot in Snapshots) snapshot.Head.Dispose();
    }
}

/// <summary>The head after <see cref="Iterations"/> Phase-II iterations.</summary>
public sealed record HeadSnapshot(int Iterations, ClassifierHead Head);

/// <summary>
/// How one Phase-II training runs: its learning rate and the iteration counts after which a copy of the head is kept
/// (the last one ends the training). Validation chooses among the copies, so a shorter training is one snapshot of a
/// longer one, never a separate run.
/// </summary>
public sealed record PhaseTwoSchedule(double LearningRate, IReadOnlyList<int> Snapshots)
{
    /// <summary>One training of <paramref name="iterations"/> at <paramref name="learningRate"/>, keeping only the end.</summary>
    public static PhaseTwoSchedule Single(double learningRate, int iterations) => new(learningRate, [iterations]);

    internal int[] Validated()
    {
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The Phase-II learning rate must be a positive number.");
        var points = Snapshots.ToArray();
        if (points.Length == 0 || points[0] < 1 || points.Zip(points.Skip(1)).Any(p => p.Second <= p.First))
            throw new ArgumentException($"Snapshots must be increasing iteration counts from 1 on, got [{string.Join(", ", points)}].", nameof(Snapshots));
        return points;
    }
}

/// <summary>
/// Phase II (the FineTuneHead stage): the FC re-trained on stored pooled features of the frozen backbone, starting from a copy of the
/// Phase-I FC, and the baselines computed from the same features (spec/fsa.md, "Phase II" and "Baselines").
/// All trained methods share N_t, N_a, iterations, SGD learning rate and momentum; each has its own seeded stream.
/// With extra views every real feature is drawn from a uniformly chosen view of its sample.
/// </summary>
public static class HeadFineTuning
{
    /// <summary>CE: the Phase-I FC as it is (a copy).</summary>
    public static ClassifierHead CrossEntropy(ClassifierHead phaseOne) => phaseOne.Clone();

    /// <summary>
    /// tau-norm (Kang et al., ICLR 2020): row c of W divided by ||w_c||^tau, no training. The bias is dropped
    /// (set to zero) as in Kang et al.'s tau_norm.py, whose logits are f . w_c / ||w_c||^tau without the FC bias.
    /// </summary>
    public static ClassifierHead TauNormalized(ClassifierHead phaseOne, double tau)
    {
        ArgumentNullException.ThrowIfNull(phaseOne);
        if (!(tau >= 0) || double.IsInfinity(tau)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "tau must be a finite number >= 0.");
        using var scope = torch.NewDisposeScope();
        var norms = phaseOne.Weight.to_type(ScalarType.Float64).norm(1, keepdim: true).clamp_min(1e-12);
        var weight = phaseOne.Weight.to_type(ScalarType.Float64) / norms.pow(tau);
        return new ClassifierHead(weight, torch.zeros_like(phaseOne.Bias));
    }

    /// <summary>
    /// FSA: each batch holds the plan's N_t real tail samples, for each of them its N_a fused features from its
    /// class's bank (made from that very sample, used in order, each once), and N_t (1 + N_a) real head samples
    /// drawn uniformly; cross-entropy, SGD.
    /// </summary>
    /// <param name="banks">One bank per class of <see cref="AugmentationPlan.FusedClasses"/>.</param>
    public static HeadTrainingResult TrainFsa(
        PooledFeatureTable pooled, AugmentationPlan plan, IReadOnlyList<FusionBank> banks, ClassifierHead phaseOne,
        PhaseTwoSchedule? schedule = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(banks);
        CheckInputs(pooled, plan, phaseOne);
        if (pooled.ViewsPerSample != 1 + plan.Options.Views)
            throw new ArgumentException($"The pooled features hold {pooled.ViewsPerSample} views per sample but the plan was made for {1 + plan.Options.Views}.", nameof(pooled));
        var byClass = new Dictionary<int, FusionBank>();
        foreach (var bank in banks)
        {
            if (bank.Features.shape[1] != pooled.FeatureChannels)
                throw new ArgumentException($"The bank of class {bank.ClassId} has {bank.Features.shape[1]} channels, the pooled features {pooled.FeatureChannels}.", nameof(banks));
            if (!byClass.TryAdd(bank.ClassId, bank))
                throw new ArgumentException($"Two banks for class {bank.ClassId}.", nameof(banks));
        }
        foreach (int c in plan.FusedClasses)
            if (!byClass.ContainsKey(c))
                throw new ArgumentException($"No fusion bank for tail class {c}.", nameof(banks));

        var bankSizes = plan.FusedClasses.ToDictionary(c => c, c => byClass[c].Count);
        var batches = FsaBatches(pooled, plan, bankSizes, out var fusedDraws);
        using var realRows = RealRows(pooled);
        using var table = torch.cat(
            new[] { realRows }.Concat(plan.FusedClasses.Select(c => byClass[c].Features)).ToList(), 0);
        return Train(table, batches, Warm(phaseOne, plan, schedule), fusedDraws, BankSizing.ReuseFactor(fusedDraws, bankSizes), cancellationToken);
    }

    /// <summary>
    /// No-Aug (the paper's ablation): FSA's batches with the fused slots filled with real tail samples, i.e.
    /// N_t (1 + N_a) real tail and N_t (1 + N_a) real head samples, each drawn uniformly. The plan gives the split,
    /// the options and the seed; its tail draws are FSA's and not used here.
    /// </summary>
    public static HeadTrainingResult TrainNoAug(
        PooledFeatureTable pooled, AugmentationPlan plan, ClassifierHead phaseOne, PhaseTwoSchedule? schedule = null, CancellationToken cancellationToken = default)
    {
        CheckInputs(pooled, plan, phaseOne);
        var batches = NoAugBatches(pooled, plan.Split, plan.Options, plan.Seed);
        return TrainOnRealRows(pooled, batches, Warm(phaseOne, plan, schedule), cancellationToken);
    }

    /// <summary>
    /// cRT, warm-started: class-balanced batches of 2 N_t (1 + N_a) real samples, each slot a class drawn
    /// uniformly among classes with samples and then one of its samples, starting from the Phase-I FC like FSA at
    /// FSA's learning rate, so the comparison with FSA isolates the sampling. <see cref="TrainCrtReinit"/> is cRT as
    /// Kang et al. run it. The plan gives the options and the seed.
    /// </summary>
    public static HeadTrainingResult TrainCrt(
        PooledFeatureTable pooled, AugmentationPlan plan, ClassifierHead phaseOne, PhaseTwoSchedule? schedule = null, CancellationToken cancellationToken = default)
    {
        CheckInputs(pooled, plan, phaseOne);
        var batches = CrtBatches(pooled, plan.Options, plan.Seed, SeedStreams.CrtSchedule);
        return TrainOnRealRows(pooled, batches, Warm(phaseOne, plan, schedule), cancellationToken);
    }

    /// <summary>
    /// cRT as Kang et al. (ICLR 2020) specify it: the FC re-initialised (U(-1/sqrt K, 1/sqrt K), PyTorch's Linear
    /// default, seeded), class-balanced batches as <see cref="TrainCrt"/> (their own stream), SGD with momentum,
    /// weight decay 5e-4 and a cosine decay of the learning rate to 0 over the iterations; default rate
    /// <see cref="FsaOptions.CrtReinitLearningRate"/>.
    /// </summary>
    public static HeadTrainingResult TrainCrtReinit(
        PooledFeatureTable pooled, AugmentationPlan plan, ClassifierHead phaseOne, PhaseTwoSchedule? schedule = null, CancellationToken cancellationToken = default)
    {
        CheckInputs(pooled, plan, phaseOne);
        var batches = CrtBatches(pooled, plan.Options, plan.Seed, SeedStreams.CrtReinitSchedule);
        using var start = Reinitialised(phaseOne.NumClasses, phaseOne.FeatureChannels, SeedStreams.Derive(plan.Seed, SeedStreams.CrtReinitInit));
        schedule ??= PhaseTwoSchedule.Single(plan.Options.CrtReinitLearningRate, plan.Options.FineTuneIterations);
        var spec = new TrainingSpec(start, schedule, plan.Options.FineTuneMomentum, CrtReinitWeightDecay, Cosine: true, ScalesOnly: false, LogitOffset: null);
        return TrainOnRealRows(pooled, batches, spec, cancellationToken);
    }

    /// <summary>Kang et al.'s cRT weight decay.</summary>
    public const double CrtReinitWeightDecay = 5e-4;

    /// <summary>
    /// LWS, learnable weight scaling (Kang et al., ICLR 2020): the Phase-I FC frozen, one scale s_c per class learned
    /// (initialised to 1) on cRT's class-balanced batches (their own stream); logits s_c (w_c . f + b_c). The head it
    /// returns has the scales folded in: rows s_c w_c and bias s_c b_c.
    /// </summary>
    public static HeadTrainingResult TrainLws(
        PooledFeatureTable pooled, AugmentationPlan plan, ClassifierHead phaseOne, PhaseTwoSchedule? schedule = null, CancellationToken cancellationToken = default)
    {
        CheckInputs(pooled, plan, phaseOne);
        var batches = CrtBatches(pooled, plan.Options, plan.Seed, SeedStreams.LwsSchedule);
        return TrainOnRealRows(pooled, batches, Warm(phaseOne, plan, schedule) with { ScalesOnly = true }, cancellationToken);
    }

    /// <summary>
    /// Balanced Softmax (Ren et al., NeurIPS 2020): the FC, warm-started from Phase I, re-trained on batches of
    /// 2 N_t (1 + N_a) samples drawn uniformly over all training samples (their own stream) with the loss
    /// cross-entropy(W f + b + log n_c): the softmax of the training prior, so plain W f + b predicts for a balanced test set.
    /// </summary>
    public static HeadTrainingResult TrainBalancedSoftmax(
        PooledFeatureTable pooled, AugmentationPlan plan, ClassifierHead phaseOne, PhaseTwoSchedule? schedule = null, CancellationToken cancellationToken = default)
    {
        CheckInputs(pooled, plan, phaseOne);
        var batches = InstanceBatches(pooled, plan.Options, plan.Seed);
        using var logPrior = torch.tensor(LogCounts(plan.ClassCounts));
        return TrainOnRealRows(pooled, batches, Warm(phaseOne, plan, schedule) with { LogitOffset = logPrior }, cancellationToken);
    }

    /// <summary>
    /// Phase II of any trained method (<see cref="HeadMethods.Trained"/>); <paramref name="banks"/> is read by FSA only.
    /// Without a schedule each method trains the plan's iterations at <see cref="DefaultLearningRate"/>.
    /// </summary>
    public static HeadTrainingResult Train(
        HeadMethod method, PooledFeatureTable pooled, AugmentationPlan plan, IReadOnlyList<FusionBank> banks, ClassifierHead phaseOne,
        PhaseTwoSchedule? schedule = null, CancellationToken cancellationToken = default) => method switch
    {
        HeadMethod.Fsa => TrainFsa(pooled, plan, banks, phaseOne, schedule, cancellationToken),
        HeadMethod.NoAug => TrainNoAug(pooled, plan, phaseOne, schedule, cancellationToken),
        HeadMethod.Crt => TrainCrt(pooled, plan, phaseOne, schedule, cancellationToken),
        HeadMethod.CrtReinit => TrainCrtReinit(pooled, plan, phaseOne, schedule, cancellationToken),
        HeadMethod.Lws => TrainLws(pooled, plan, phaseOne, schedule, cancellationToken),
        HeadMethod.BalancedSoftmax => TrainBalancedSoftmax(pooled, plan, phaseOne, schedule, cancellationToken),
        _ => throw new ArgumentException($"{method.Display()} is not trained in Phase II.", nameof(method)),
    };

    /// <summary>The learning rate a trained method uses when validation does not choose one.</summary>
    public static double DefaultLearningRate(HeadMethod method, FsaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return method == HeadMethod.CrtReinit ? options.CrtReinitLearningRate : options.FineTuneLearningRate;
    }

    /// <summary>
    /// Post-hoc logit adjustment (Menon et al., ICLR 2021): logits W f + b - tau log(pi_c), pi the training prior
    /// n_c / n, folded into the bias so the result is an ordinary head. A class without training samples gets the
    /// prior of one sample, so its adjustment stays finite.
    /// </summary>
    public static ClassifierHead LogitAdjusted(ClassifierHead phaseOne, IReadOnlyList<int> trainCounts, double tau)
    {
        ArgumentNullException.ThrowIfNull(phaseOne);
        ArgumentNullException.ThrowIfNull(trainCounts);
        if (trainCounts.Count != phaseOne.NumClasses)
            throw new ArgumentException($"{trainCounts.Count} class counts for a head of {phaseOne.NumClasses} classes.", nameof(trainCounts));
        if (!(tau >= 0) || double.IsInfinity(tau)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "tau must be a finite number >= 0.");
        double total = trainCounts.Sum(c => (double)Math.Max(c, 1));
        var logPrior = trainCounts.Select(c => Math.Log(Math.Max(c, 1) / total)).ToArray();
        using var scope = torch.NewDisposeScope();
        var bias = phaseOne.Bias.to_type(ScalarType.Float64) - tau * torch.tensor(logPrior);
        return new ClassifierHead(phaseOne.Weight, bias);
    }

    private static float[] LogCounts(IReadOnlyList<int> counts) => counts.Select(c => (float)Math.Log(Math.Max(c, 1))).ToArray();

    /// <summary>A fresh C x K FC drawn from U(-1/sqrt K, 1/sqrt K) (PyTorch's Linear default) by a seeded System.Random.</summary>
    internal static ClassifierHead Reinitialised(int classes, int channels, int seed)
    {
        var random = new Random(seed);
        double bound = 1 / Math.Sqrt(channels);
        var weight = new float[(long)classes * channels];
        for (long i = 0; i < weight.Length; i++) weight[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        var bias = new float[classes];
        for (int c = 0; c < classes; c++) bias[c] = (float)((random.NextDouble() * 2 - 1) * bound);
        using var w = torch.tensor(weight).view(classes, channels);
        using var b = torch.tensor(bias);
        return new ClassifierHead(w, b);
    }

    /// <summary>
    /// Row indices into the training table and labels of every batch, iteration-major (entry i * BatchSize + j).
    /// Table rows: sample position p, view v is row p * V1 + v; fused features follow all real rows.
    /// </summary>
    internal sealed record TrainingBatches(int Iterations, int BatchSize, long[] Rows, long[] Labels);

    internal static TrainingBatches FsaBatches(PooledFeatureTable pooled, AugmentationPlan plan, IReadOnlyDictionary<int, int> bankSizes, out Dictionary<int, int> fusedDraws)
    {
        var options = plan.Options;
        int viewsPerSample = pooled.ViewsPerSample, batchSize = options.BatchSize;
        long realRows = (long)pooled.Count * viewsPerSample;
        var bankOffset = new Dictionary<int, long>();
        long offset = realRows;
        foreach (int c in plan.FusedClasses)
        {
            bankOffset[c] = offset;
            offset += bankSizes[c];
        }
        var random = new Random(SeedStreams.Derive(plan.Seed, SeedStreams.FsaSchedule, 1));
        var head = Sampler(pooled, plan.Split.HeadClasses, options.HeadSampling, random);
        if (head.IsEmpty) throw new InvalidOperationException("No head samples: the split puts every populated class in the tail.");
        var occurrences = plan.FusedClasses.ToDictionary(c => c, _ => 0);
        fusedDraws = plan.FusedClasses.ToDictionary(c => c, _ => 0);
        var rows = new long[(long)options.FineTuneIterations * batchSize];
        var labels = new long[rows.Length];
        long slot = 0;
        for (int iteration = 0; iteration < options.FineTuneIterations; iteration++)
        {
            for (int j = 0; j < options.Nt; j++)
            {
                int draw = iteration * options.Nt + j;
                int position = plan.TailDrawSamples[draw];
                int label = pooled.Labels[position];
                rows[slot] = (long)position * viewsPerSample + plan.TailDrawViews[draw];
                labels[slot++] = label;
                int size = bankSizes[label];
                if (size == 0) throw new ArgumentException($"The fusion bank of tail class {label} is empty but Phase II draws from it.", nameof(bankSizes));
                int occurrence = occurrences[label]++;
                for (int a = 0; a < options.Na; a++)
                {
                    // Past the bank's end (a bank built for fewer iterations) entries are reused; ReuseFactor reports it.
                    rows[slot] = bankOffset[label] + ((long)occurrence * options.Na + a) % size;
                    labels[slot++] = label;
                }
                fusedDraws[label] += options.Na;
            }
            for (int j = 0; j < options.Nt * (1 + options.Na); j++) slot = Add(head, pooled, rows, labels, slot);
        }
        return new TrainingBatches(options.FineTuneIterations, batchSize, rows, labels);
    }

    internal static TrainingBatches NoAugBatches(PooledFeatureTable pooled, ClassSplit split, FsaOptions options, int seed)
    {
        var random = new Random(SeedStreams.Derive(seed, SeedStreams.NoAugSchedule));
        var tail = Sampler(pooled, split.TailClasses, GroupSampling.Uniform, random);
        var head = Sampler(pooled, split.HeadClasses, GroupSampling.Uniform, random);
        if (tail.IsEmpty) throw new InvalidOperationException("No tail samples: the split puts every populated class in the head.");
        if (head.IsEmpty) throw new InvalidOperationException("No head samples: the split puts every populated class in the tail.");
        int half = options.Nt * (1 + options.Na);
        var rows = new long[(long)options.FineTuneIterations * options.BatchSize];
        var labels = new long[rows.Length];
        long slot = 0;
        for (int iteration = 0; iteration < options.FineTuneIterations; iteration++)
        {
            for (int j = 0; j < half; j++) slot = Add(tail, pooled, rows, labels, slot);
            for (int j = 0; j < half; j++) slot = Add(head, pooled, rows, labels, slot);
        }
        return new TrainingBatches(options.FineTuneIterations, options.BatchSize, rows, labels);
    }

    internal static TrainingBatches CrtBatches(PooledFeatureTable pooled, FsaOptions options, int seed, int stream)
    {
        var random = new Random(SeedStreams.Derive(seed, stream));
        return FillBatches(Sampler(pooled, Enumerable.Range(0, pooled.NumClasses), GroupSampling.ClassBalanced, random), pooled, options);
    }

    /// <summary>Balanced Softmax's batches: every slot a sample drawn uniformly over all training samples.</summary>
    internal static TrainingBatches InstanceBatches(PooledFeatureTable pooled, FsaOptions options, int seed)
    {
        var random = new Random(SeedStreams.Derive(seed, SeedStreams.BalancedSoftmaxSchedule));
        return FillBatches(Sampler(pooled, Enumerable.Range(0, pooled.NumClasses), GroupSampling.Uniform, random), pooled, options);
    }

    /// <summary>Every slot of every batch one draw of <paramref name="all"/>.</summary>
    private static TrainingBatches FillBatches(GroupSampler all, PooledFeatureTable pooled, FsaOptions options)
    {
        var rows = new long[(long)options.FineTuneIterations * options.BatchSize];
        var labels = new long[rows.Length];
        for (long slot = 0; slot < rows.Length;) slot = Add(all, pooled, rows, labels, slot);
        return new TrainingBatches(options.FineTuneIterations, options.BatchSize, rows, labels);
    }

    private static GroupSampler Sampler(PooledFeatureTable pooled, IEnumerable<int> classes, GroupSampling sampling, Random random) =>
        new(classes, pooled.ClassCounts, pooled.ClassOffsets, sampling, pooled.ViewsPerSample, random);

    /// <summary>Fills one slot with a draw of <paramref name="group"/>: its table row and label.</summary>
    private static long Add(GroupSampler group, PooledFeatureTable pooled, long[] rows, long[] labels, long slot)
    {
        var (position, view) = group.Next();
        rows[slot] = (long)position * pooled.ViewsPerSample + view;
        labels[slot] = pooled.Labels[position];
        return slot + 1;
    }

    /// <summary>The real pooled features as table rows (N V1) x K.</summary>
    private static Tensor RealRows(PooledFeatureTable pooled) =>
        pooled.Features.reshape((long)pooled.Count * pooled.ViewsPerSample, pooled.FeatureChannels);

    private static void CheckInputs(PooledFeatureTable pooled, AugmentationPlan plan, ClassifierHead phaseOne)
    {
        ArgumentNullException.ThrowIfNull(pooled);
        ArgumentNullException.ThrowIfNull(plan);
        CheckTable(pooled, plan.ClassCounts, phaseOne);
    }

    private static void CheckTable(PooledFeatureTable pooled, int[] classCounts, ClassifierHead phaseOne)
    {
        ArgumentNullException.ThrowIfNull(phaseOne);
        if (!pooled.ClassCounts.SequenceEqual(classCounts))
            throw new ArgumentException($"The pooled features' class counts [{string.Join(", ", pooled.ClassCounts)}] differ from the plan's [{string.Join(", ", classCounts)}].", nameof(pooled));
        if (phaseOne.NumClasses != pooled.NumClasses || phaseOne.FeatureChannels != pooled.FeatureChannels)
            throw new ArgumentException($"The Phase-I head is {phaseOne.NumClasses} x {phaseOne.FeatureChannels}; the features have {pooled.NumClasses} classes and {pooled.FeatureChannels} channels.", nameof(phaseOne));
    }

    /// <summary>What one training optimises: where it starts, its schedule, and the method's loss and parameters.</summary>
    private sealed record TrainingSpec(
        ClassifierHead Start, PhaseTwoSchedule Schedule, double Momentum, double WeightDecay, bool Cosine, bool ScalesOnly, Tensor? LogitOffset);

    /// <summary>From the Phase-I FC with plain cross-entropy, constant rate, no weight decay (FSA, No-Aug, cRT).</summary>
    private static TrainingSpec Warm(ClassifierHead phaseOne, AugmentationPlan plan, PhaseTwoSchedule? schedule) =>
        new(phaseOne, schedule ?? PhaseTwoSchedule.Single(plan.Options.FineTuneLearningRate, plan.Options.FineTuneIterations),
            plan.Options.FineTuneMomentum, 0, Cosine: false, ScalesOnly: false, LogitOffset: null);

    /// <summary>Trains on the real pooled features only (every method but FSA): no fused rows, nothing drawn from banks.</summary>
    private static HeadTrainingResult TrainOnRealRows(PooledFeatureTable pooled, TrainingBatches batches, TrainingSpec spec, CancellationToken cancellationToken)
    {
        using var table = RealRows(pooled);
        return Train(table, batches, spec, new Dictionary<int, int>(), 0, cancellationToken);
    }

    private static HeadTrainingResult Train(
        Tensor table, TrainingBatches batches, TrainingSpec spec, IReadOnlyDictionary<int, int> fusedDraws, double reuseFactor, CancellationToken cancellationToken)
    {
        var snapshots = spec.Schedule.Validated();
        if (snapshots[^1] > batches.Iterations)
            throw new ArgumentException($"The schedule ends at iteration {snapshots[^1]} but {batches.Iterations} batches were drawn.");
        var stopwatch = Stopwatch.StartNew();
        return TorchThreads.SingleThreaded(() =>
            TrainSingleThreaded(table, batches, spec, snapshots, fusedDraws, reuseFactor, stopwatch, cancellationToken));
    }

    private static HeadTrainingResult TrainSingleThreaded(
        Tensor table, TrainingBatches batches, TrainingSpec spec, int[] snapshotAt,
        IReadOnlyDictionary<int, int> fusedDraws, double reuseFactor, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        // Parameter takes over the handle of the fresh copy it is given.
        using var weight = new Parameter(spec.Start.Weight.clone(), requires_grad: !spec.ScalesOnly);
        using var bias = new Parameter(spec.Start.Bias.clone(), requires_grad: !spec.ScalesOnly);
        using var scales = new Parameter(torch.ones(spec.Start.NumClasses), requires_grad: spec.ScalesOnly);
        var parameters = spec.ScalesOnly ? new[] { scales } : new[] { weight, bias };
        double rate = spec.Schedule.LearningRate;
        using var optimizer = optim.SGD(parameters, rate, spec.Momentum, weight_decay: spec.WeightDecay);
        var group = optimizer.ParamGroups.Single();
        int iterations = snapshotAt[^1];
        using var rows = torch.tensor(batches.Rows).view(batches.Iterations, batches.BatchSize);
        using var labels = torch.tensor(batches.Labels).view(batches.Iterations, batches.BatchSize);
        var losses = new float[iterations];
        var snapshots = new List<HeadSnapshot>();
        try
        {
            for (int iteration = 0; iteration < iterations; iteration++)
            {
                if (iteration % 256 == 0) cancellationToken.ThrowIfCancellationRequested();
                // Cosine: rate (1 + cos(pi t / T)) / 2 over the whole training, so an earlier snapshot is that same run stopped early.
                if (spec.Cosine) group.LearningRate = rate * 0.5 * (1 + Math.Cos(Math.PI * iteration / iterations));
                using (var scope = torch.NewDisposeScope())
                {
                    var inputs = table.index_select(0, rows[iteration]);
                    var logits = torch.addmm(bias, inputs, weight.t(), 1, 1);
                    if (spec.ScalesOnly) logits = logits * scales;
                    if (spec.LogitOffset is { } offset) logits = logits + offset;
                    var loss = nn.functional.cross_entropy(logits, labels[iteration]);
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    losses[iteration] = loss.item<float>();
                }
                if (Array.IndexOf(snapshotAt, iteration + 1) >= 0) snapshots.Add(new HeadSnapshot(iteration + 1, Current(weight, bias, scales, spec.ScalesOnly)));
            }
        }
        catch
        {
            foreach (var snapshot in snapshots) snapshot.Head.Dispose();
            throw;
        }
        return new HeadTrainingResult(snapshots, losses, fusedDraws, reuseFactor, stopwatch.Elapsed);
    }

    /// <summary>The head now; LWS's scales folded into its rows and bias.</summary>
    private static ClassifierHead Current(Tensor weight, Tensor bias, Tensor scales, bool scalesOnly)
    {
        using var noGrad = torch.no_grad();
        if (!scalesOnly) return new ClassifierHead(weight, bias);
        using var scope = torch.NewDisposeScope();
        return new ClassifierHead(weight * scales.unsqueeze(1), bias * scales);
    }
}
