using System.Globalization;

namespace FeatureAug.Core.Fsa;

/// <summary>How Phase II draws the real head (or tail) samples of an FSA batch.</summary>
public enum GroupSampling
{
    /// <summary>Uniformly over all samples of the group (the paper).</summary>
    Uniform,
    /// <summary>A class of the group uniformly, then one of its samples uniformly.</summary>
    ClassBalanced,
}

/// <summary>
/// Every hyperparameter of Feature Space Augmentation (spec/fsa.md) with its default.
/// Symbols follow the paper (tau_s, tau_g, h_r, N_a, N_f, N_t); the CLI flag of each is named in its summary.
/// <see cref="Problems"/> names violated rules by the camelCase property (the JSON member name of options.fsa).
/// </summary>
public sealed record FsaOptions
{
    /// <summary>tau_s (--tau-s): a location is class-specific where its normalised CAM is above this.</summary>
    public double TauS { get; init; } = 0.8;

    /// <summary>tau_g (--tau-g): a location is class-generic where its normalised CAM is below this.</summary>
    public double TauG { get; init; } = 0.2;

    /// <summary>h_r (--head-ratio): the head is the smallest prefix of classes, largest first, holding at least this share of the training samples.</summary>
    public double HeadRatio { get; init; } = 0.9;

    /// <summary>N_a (--na): fused features per real tail sample in a Phase-II batch.</summary>
    public int Na { get; init; } = 3;

    /// <summary>
    /// N_f (--nf): confusing classes per tail class. Null (the default) means the paper's 3, or C - 1 where a data set
    /// has fewer than 4 classes (<see cref="EffectiveNf"/>); a value given explicitly is used as it is, or refused.
    /// </summary>
    public int? Nf { get; init; }

    /// <summary>The paper's N_f.</summary>
    public const int DefaultNf = 3;

    /// <summary>N_f for <paramref name="classCount"/> classes: the explicit value, else min(3, C - 1).</summary>
    public int EffectiveNf(int classCount) => Nf ?? Math.Max(1, Math.Min(DefaultNf, classCount - 1));

    /// <summary>N_t (--nt): real tail samples per Phase-II batch; the batch holds 2 N_t (1 + N_a) features.</summary>
    public int Nt { get; init; } = 16;

    /// <summary>
    /// Phase-II iterations (--finetune-iterations), shared by FSA, No-Aug and cRT. The paper uses 6,400 on CIFAR-LT;
    /// Fashion-MNIST-LT IF 100 (14,886 training images) is of the same size as CIFAR-10-LT IF 100 (12,406), and
    /// FC-only training on stored pooled features costs seconds, so the paper's number is kept.
    /// </summary>
    public int FineTuneIterations { get; init; } = 6400;

    /// <summary>
    /// Phase-II SGD learning rate (--finetune-lr) of the warm-started heads (FSA, No-Aug, cRT, LWS, Balanced Softmax)
    /// when no validation split chooses one; paper: 0.001.
    /// </summary>
    public double FineTuneLearningRate { get; init; } = 0.001;

    /// <summary>Learning rate of the re-initialised cRT (--crt-reinit-lr) when no validation split chooses one (Kang et al. use 0.2 at batch 512).</summary>
    public double CrtReinitLearningRate { get; init; } = 0.1;

    /// <summary>
    /// Learning rates every trained head is tried at when the run has a validation split (--finetune-lr-grid); each
    /// training keeps its head after 1/4, 1/2 and all of the iterations, and validation picks the rate and the
    /// iterations, by the same rule for every method, FSA included.
    /// </summary>
    public double[] LearningRateGrid { get; init; } = [0.001, 0.01, 0.1];

    /// <summary>
    /// Phase-II SGD momentum. The paper says only "SGD"; 0.9 is the momentum of its Phase-I schedule and of cRT
    /// (Kang et al.), so it is used here too. Set 0 for plain SGD.
    /// </summary>
    public double FineTuneMomentum { get; init; } = 0.9;

    /// <summary>
    /// tau of the tau-norm baseline without a validation split: rows of W are divided by ||w_c||^tau (Kang et al.;
    /// 1 = full normalisation). With one, tau is chosen on it from 0, 0.1, ..., 1.
    /// </summary>
    public double TauNorm { get; init; } = 1.0;

    /// <summary>tau of post-hoc logit adjustment without a validation split (Menon et al.'s default 1). With one, tau is chosen from 0, 0.25, ..., 2.</summary>
    public double LogitAdjustTau { get; init; } = 1.0;

    /// <summary>V (--views): randomly augmented views per training image extracted besides the clean one (0 = the paper).</summary>
    public int Views { get; init; }

    /// <summary>Restrict confusing classes to head classes (beyond the paper; off by default).</summary>
    public bool ConfusingHeadOnly { get; init; }

    /// <summary>
    /// How FSA fills its N_t (1 + N_a) head slots (--head-sampling, beyond the paper): <see cref="GroupSampling.Uniform"/>
    /// over head samples (the paper) or <see cref="GroupSampling.ClassBalanced"/> (a head class uniformly, then one of its
    /// samples), which stops the largest head class from dominating the head half of every batch.
    /// </summary>
    public GroupSampling HeadSampling { get; init; } = GroupSampling.Uniform;

    /// <summary>
    /// How FSA draws its N_t real tail samples per batch (--tail-sampling, beyond the paper): uniformly over tail samples
    /// (the paper) or class-balanced (a tail class uniformly, then one of its samples). Uniform draws still follow the
    /// tail's own imbalance (at Fashion-MNIST-LT IF 100 the largest tail class has ~8x the smallest), so the rarest
    /// classes get the fewest real and fused features.
    /// </summary>
    public GroupSampling TailSampling { get; init; } = GroupSampling.Uniform;

    /// <summary>
    /// Rescale every fused feature to the L2 norm of the real clean feature f_t of the tail sample it was made from
    /// (--match-fused-norm, beyond the paper; off by default). Generic vectors (low CAM) are weak, so their mean
    /// pulls fused features towards the origin, away from the real tail features; this keeps the direction the
    /// fusion produced and restores the tail sample's magnitude.
    /// </summary>
    public bool MatchFusedNorm { get; init; }

    /// <summary>
    /// Replace every fused feature that lies nearer (L2, pooled space) to the mean feature of the confusing class it
    /// was fused with than to its own tail class's mean by the real clean f_t of its tail sample
    /// (--reject-ambiguous-fused, beyond the paper; off by default). At Fashion-MNIST-LT IF 100 most fused Shirt
    /// features land nearer T-shirt, Pullover or Coat (bench/results/fused-features-*.md): trained as Shirt, they act
    /// as label noise. Rejected entries are counted with the fallbacks.
    /// </summary>
    public bool RejectAmbiguousFused { get; init; }

    /// <summary>Keep stored feature maps in float16 to halve their memory and shard size.</summary>
    public bool StoreMapsAsHalf { get; init; }

    /// <summary>Batch size of FSA and No-Aug, 2 N_t (1 + N_a); cRT uses the same size.</summary>
    public int BatchSize => 2 * Nt * (1 + Na);

    /// <summary>
    /// Every violated constraint, one problem each, named by its camelCase property; empty when the options are usable
    /// with <paramref name="classCount"/> classes (int.MaxValue checks only the rules that need no class count).
    /// </summary>
    public IReadOnlyList<OptionProblem> Problems(int classCount)
    {
        var problems = new List<OptionProblem>();
        void Check(bool ok, string field, FormattableString message)
        {
            if (!ok) problems.Add(new OptionProblem(field, message.ToString(CultureInfo.InvariantCulture)));
        }

        Check(TauS > 0 && TauS < 1, "tauS", $"must lie in (0, 1), got {TauS}.");
        Check(TauG > 0 && TauG < 1, "tauG", $"must lie in (0, 1), got {TauG}.");
        Check(!(TauG > TauS), "tauG", $"must not exceed tau_s ({TauS}), got {TauG}.");
        Check(HeadRatio > 0 && HeadRatio <= 1, "headRatio", $"must lie in (0, 1], got {HeadRatio}.");
        Check(Na >= 1, "na", $"must be at least 1, got {Na}.");
        Check(!(Nf < 1), "nf", $"must be at least 1, got {Nf}.");
        Check(!(Nf >= classCount), "nf", $"must be below the class count {classCount}, got {Nf}.");
        Check(Nt >= 1, "nt", $"must be at least 1, got {Nt}.");
        Check(FineTuneIterations >= 1, "fineTuneIterations", $"must be at least 1, got {FineTuneIterations}.");
        Check(FineTuneLearningRate > 0 && !double.IsInfinity(FineTuneLearningRate), "fineTuneLearningRate", $"must be a positive number, got {FineTuneLearningRate}.");
        Check(FineTuneMomentum >= 0 && FineTuneMomentum < 1, "fineTuneMomentum", $"must lie in [0, 1), got {FineTuneMomentum}.");
        Check(CrtReinitLearningRate > 0 && !double.IsInfinity(CrtReinitLearningRate), "crtReinitLearningRate", $"must be a positive number, got {CrtReinitLearningRate}.");
        Check(LearningRateGrid is { Length: > 0 } && LearningRateGrid.All(r => r > 0 && !double.IsInfinity(r)), "learningRateGrid",
            $"must list one or more positive numbers, got [{string.Join(", ", LearningRateGrid ?? [])}].");
        Check(TauNorm >= 0 && !double.IsInfinity(TauNorm), "tauNorm", $"must be a finite number >= 0, got {TauNorm}.");
        Check(LogitAdjustTau >= 0 && !double.IsInfinity(LogitAdjustTau), "logitAdjustTau", $"must be a finite number >= 0, got {LogitAdjustTau}.");
        Check(Views >= 0, "views", $"must be 0 or more, got {Views}.");
        Check(Enum.IsDefined(HeadSampling), "headSampling", $"must be uniform or classBalanced, got {HeadSampling}.");
        Check(Enum.IsDefined(TailSampling), "tailSampling", $"must be uniform or classBalanced, got {TailSampling}.");
        return problems;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every violated constraint, one "FsaOptions.Property: message" per line.</summary>
    public void Validate(int classCount)
    {
        var problems = Problems(classCount);
        if (problems.Count > 0) throw OptionProblem.ToException(nameof(FsaOptions), problems);
    }
}
