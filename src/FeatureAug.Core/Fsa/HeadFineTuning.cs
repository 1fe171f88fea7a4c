using System.Diagnostics;
using FeatureAug.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>A head trained in Phase II and how the training went.</summary>
public sealed class HeadTrainingResult : IDisposable
{
    internal HeadTrainingResult(ClassifierHead head, float[] losses, IReadOnlyDictionary<int, int> fusedDraws, double reuseFactor, TimeSpan elapsed)
    {
        Head = head;
        Losses = losses;
        FusedDraws = fusedDraws;
        ReuseFactor = reuseFactor;
        Elapsed = elapsed;
    }

    public ClassifierHead Head { get; }
    /// <summary>Cross-entropy of each iteration's batch, before that iteration's step.</summary>
    public float[] Losses { get; }
    /// <summary>FSA only: fused features drawn per tail class (empty for the other methods).</summary>
    public IReadOnlyDictionary<int, int> FusedDraws { get; }
    /// <summary>FSA only: <see cref="BankSizing.ReuseFactor"/> of this training; above 1.0 some fused features were reused.</summary>
    public double ReuseFactor { get; }
    public TimeSpan Elapsed { get; }

    public void Dispose() => Head.Dispose();
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
    public static HeadTrainingResult TrainFsa(PooledFeatureTable pooled, AugmentationPlan plan, IReadOnlyList<FusionBank> banks, ClassifierHead phaseOne, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pooled);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(banks);
        CheckTable(pooled, plan.ClassCounts, phaseOne);
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
        return Train(table, batches, phaseOne, plan.Options, fusedDraws, BankSizing.ReuseFactor(fusedDraws, bankSizes), cancellationToken);
    }

    /// <summary>
    /// No-Aug (the paper's ablation): FSA's batches with the fused slots filled with real tail samples, i.e.
    /// N_t (1 + N_a) real tail and N_t (1 + N_a) real head samples, each drawn uniformly. The plan gives the split,
    /// the options and the seed; its tail draws are FSA's and not used here.
    /// </summary>
    public static HeadTrainingResult TrainNoAug(PooledFeatureTable pooled, AugmentationPlan plan, ClassifierHead phaseOne, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pooled);
        ArgumentNullException.ThrowIfNull(plan);
        CheckTable(pooled, plan.ClassCounts, phaseOne);
        var batches = NoAugBatches(pooled, plan.Split, plan.Options, plan.Seed);
        using var table = RealRows(pooled);
        return Train(table, batches, phaseOne, plan.Options, new Dictionary<int, int>(), 0, cancellationToken);
    }

    /// <summary>
    /// cRT (Kang et al., ICLR 2020): class-balanced batches of 2 N_t (1 + N_a) real samples, each slot a class drawn
    /// uniformly among classes with samples and then one of its samples. Starts from the Phase-I FC like FSA
    /// (Kang et al. re-initialise it, but they train with lr 0.2; with Phase II's fixed lr 0.001 and equal
    /// iterations a fresh FC would not converge, so the comparison isolates the sampling instead). The plan gives the
    /// options and the seed.
    /// </summary>
    public static HeadTrainingResult TrainCrt(PooledFeatureTable pooled, AugmentationPlan plan, ClassifierHead phaseOne, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pooled);
        ArgumentNullException.ThrowIfNull(plan);
        CheckTable(pooled, plan.ClassCounts, phaseOne);
        var batches = CrtBatches(pooled, plan.Options, plan.Seed);
        using var table = RealRows(pooled);
        return Train(table, batches, phaseOne, plan.Options, new Dictionary<int, int>(), 0, cancellationToken);
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

    internal static TrainingBatches CrtBatches(PooledFeatureTable pooled, FsaOptions options, int seed)
    {
        var random = new Random(SeedStreams.Derive(seed, SeedStreams.CrtSchedule));
        var all = Sampler(pooled, Enumerable.Range(0, pooled.NumClasses), GroupSampling.ClassBalanced, random);
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

    private static void CheckTable(PooledFeatureTable pooled, int[] classCounts, ClassifierHead phaseOne)
    {
        ArgumentNullException.ThrowIfNull(phaseOne);
        if (!pooled.ClassCounts.SequenceEqual(classCounts))
            throw new ArgumentException($"The pooled features' class counts [{string.Join(", ", pooled.ClassCounts)}] differ from the plan's [{string.Join(", ", classCounts)}].", nameof(pooled));
        if (phaseOne.NumClasses != pooled.NumClasses || phaseOne.FeatureChannels != pooled.FeatureChannels)
            throw new ArgumentException($"The Phase-I head is {phaseOne.NumClasses} x {phaseOne.FeatureChannels}; the features have {pooled.NumClasses} classes and {pooled.FeatureChannels} channels.", nameof(phaseOne));
    }

    private static HeadTrainingResult Train(
        Tensor table, TrainingBatches batches, ClassifierHead phaseOne, FsaOptions options,
        IReadOnlyDictionary<int, int> fusedDraws, double reuseFactor, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        return TorchThreads.SingleThreaded(() =>
            TrainSingleThreaded(table, batches, phaseOne, options, fusedDraws, reuseFactor, stopwatch, cancellationToken));
    }

    private static HeadTrainingResult TrainSingleThreaded(
        Tensor table, TrainingBatches batches, ClassifierHead phaseOne, FsaOptions options,
        IReadOnlyDictionary<int, int> fusedDraws, double reuseFactor, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        using var layer = nn.Linear(phaseOne.FeatureChannels, phaseOne.NumClasses);
        using (torch.no_grad())
        {
            layer.weight!.copy_(phaseOne.Weight);
            layer.bias!.copy_(phaseOne.Bias);
        }
        using var optimizer = optim.SGD(layer.parameters(), options.FineTuneLearningRate, options.FineTuneMomentum);
        using var rows = torch.tensor(batches.Rows).view(batches.Iterations, batches.BatchSize);
        using var labels = torch.tensor(batches.Labels).view(batches.Iterations, batches.BatchSize);
        var losses = new float[batches.Iterations];
        for (int iteration = 0; iteration < batches.Iterations; iteration++)
        {
            if (iteration % 256 == 0) cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var inputs = table.index_select(0, rows[iteration]);
            var loss = nn.functional.cross_entropy(layer.forward(inputs), labels[iteration]);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            losses[iteration] = loss.item<float>();
        }
        return new HeadTrainingResult(new ClassifierHead(layer.weight!, layer.bias!), losses, fusedDraws, reuseFactor, stopwatch.Elapsed);
    }
}
