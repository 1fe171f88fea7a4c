using FeatureAug.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>
/// Fusion of a tail sample's class-specific vectors with the class-generic vectors of a sample of a confusing class
/// (spec/fsa.md, "Fusion"), vectorised over all fused features of one tail class: the FuseTailClasses stage, between
/// the plan and Phase II.
/// </summary>
public static class FeatureFusion
{
    /// <summary>Gathered floats per chunk (rows x L x K), bounding fusion's working memory (~16 MB).</summary>
    private const int ChunkElements = 1 << 22;

    /// <summary>
    /// Makes tail class c's bank: for each entry k of <paramref name="tailDraws"/> (a sample t of c, by index within
    /// the class) N_a fused features, the a-th with confusing class a mod N_f. One fused feature: gamma ~ U(0,1),
    /// n_s = round(gamma L), a partner u drawn uniformly among the confusing class's samples with a non-empty G_u
    /// (the same distribution as redrawing u until one qualifies), n_s vectors of S_t and L - n_s of G_u drawn
    /// uniformly with replacement (from any view), and their mean. Where S_t is empty or no partner qualifies the
    /// entry is the real clean f_t, counted in the statistics. Self-contained and seeded: the same inputs give
    /// the same bank on any machine, so the workflow can fan this out per class.
    /// </summary>
    /// <param name="tail">Features of tail class c.</param>
    /// <param name="confusing">Features of c's confusing classes, most confused first.</param>
    /// <param name="tailDraws">Samples of c (indices within the class) in Phase-II draw order.</param>
    /// <param name="na">N_a, fused features per draw.</param>
    /// <param name="matchTailNorm">Rescale each fused feature to the norm of its tail sample's clean f_t (<see cref="FsaOptions.MatchFusedNorm"/>).</param>
    /// <param name="rejectAmbiguous">Replace a fused feature that lies nearer its confusing class's mean than its tail class's
    /// by the real clean f_t (<see cref="FsaOptions.RejectAmbiguousFused"/>); decided after norm matching.</param>
    public static FusionBank FuseTailClass(
        ClassFeatures tail, IReadOnlyList<ClassFeatures> confusing, IReadOnlyList<int> tailDraws,
        int na, double tauS, double tauG, int seed, bool matchTailNorm = false, bool rejectAmbiguous = false) =>
        TorchThreads.SingleThreaded(() => Fuse(tail, confusing, tailDraws, na, tauS, tauG, seed, matchTailNorm, rejectAmbiguous));

    /// <summary>
    /// Tail class <paramref name="tail"/>'s bank under <paramref name="plan"/>: its Phase-II draws, its seed, and the plan's
    /// fusion options (N_a, tau_s, tau_g, norm matching, rejection). <paramref name="confusing"/> are the features of
    /// the plan's confusing classes of that class, in the plan's order.
    /// </summary>
    public static FusionBank FuseTailClass(AugmentationPlan plan, ClassFeatures tail, IReadOnlyList<ClassFeatures> confusing)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(tail);
        var options = plan.Options;
        return FuseTailClass(tail, confusing, plan.TailDrawsOfClass(tail.ClassId), options.Na, options.TauS, options.TauG,
            plan.FusionSeed(tail.ClassId), options.MatchFusedNorm, options.RejectAmbiguousFused);
    }

    /// <summary>
    /// The banks of every fused tail class of <paramref name="plan"/>, in its order, from features held in memory. Should
    /// one class fail (or the run be cancelled), the banks already made are disposed before the exception leaves.
    /// </summary>
    public static List<FusionBank> FuseAll(AugmentationPlan plan, ExtractedFeatures features, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(features);
        var banks = new List<FusionBank>();
        try
        {
            foreach (int c in plan.FusedClasses)
            {
                cancellationToken.ThrowIfCancellationRequested();
                banks.Add(FuseTailClass(plan, features.Classes[c], plan.ConfusingClasses[c].Select(k => features.Classes[k]).ToList()));
            }
            return banks;
        }
        catch
        {
            foreach (var bank in banks) bank.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Rows of <paramref name="fused"/> that are really fused (<paramref name="isFused"/>) and lie strictly nearer (squared
    /// L2) to their partner class's mean (<paramref name="partnerMeans"/>, row-aligned) than to the tail class's mean are
    /// replaced by the matching row of <paramref name="clean"/>. Returns the features and which rows were replaced.
    /// </summary>
    internal static (Tensor Features, Tensor Rejected) RejectAmbiguous(Tensor fused, Tensor clean, Tensor tailMean, Tensor partnerMeans, Tensor isFused)
    {
        using var scope = torch.NewDisposeScope();
        var towardsTail = (fused - tailMean).square().sum(1);
        var towardsPartner = (fused - partnerMeans).square().sum(1);
        var rejected = (towardsPartner < towardsTail).logical_and(isFused);
        var features = torch.where(rejected.unsqueeze(1), clean, fused);
        return (features.MoveToOuterDisposeScope(), rejected.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Row r of <paramref name="fused"/> (N x K) scaled to the L2 norm of row r of <paramref name="reference"/>:
    /// fused_r * ||reference_r|| / ||fused_r||. A zero fused row stays zero.
    /// </summary>
    internal static Tensor MatchNorms(Tensor fused, Tensor reference)
    {
        using var scope = torch.NewDisposeScope();
        var fusedNorm = fused.norm(1, keepdim: true);
        var scale = torch.where(fusedNorm > 0, reference.norm(1, keepdim: true) / fusedNorm.clamp_min(1e-30), torch.ones_like(fusedNorm));
        return (fused * scale).MoveToOuterDisposeScope();
    }

    private static FusionBank Fuse(
        ClassFeatures tail, IReadOnlyList<ClassFeatures> confusing, IReadOnlyList<int> tailDraws,
        int na, double tauS, double tauG, int seed, bool matchTailNorm, bool rejectAmbiguous)
    {
        ArgumentNullException.ThrowIfNull(tail);
        ArgumentNullException.ThrowIfNull(confusing);
        ArgumentNullException.ThrowIfNull(tailDraws);
        if (na < 1) throw new ArgumentOutOfRangeException(nameof(na), na, "N_a must be at least 1.");
        if (confusing.Count == 0) throw new ArgumentException($"Tail class {tail.ClassId} has no confusing classes to fuse with.", nameof(confusing));
        foreach (int t in tailDraws)
            if (t < 0 || t >= tail.Count)
                throw new ArgumentOutOfRangeException(nameof(tailDraws), t, $"Tail class {tail.ClassId} has {tail.Count} samples.");

        using var tables = DecomposedFeatures.Build(tail, confusing, tauS, tauG);
        int rows = checked(tailDraws.Count * na);
        var tailSamples = new long[rows];
        var slots = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            tailSamples[r] = tailDraws[r / na];
            slots[r] = r % na % confusing.Count;
        }

        using var generator = new torch.Generator((ulong)seed);
        using var gamma = torch.rand(new long[] { rows }, ScalarType.Float64, generator: generator);
        using var partner = torch.rand(new long[] { rows }, ScalarType.Float64, generator: generator);
        using var samplesTensor = torch.tensor(tailSamples);
        using var slotsTensor = torch.tensor(slots);
        int chunk = Math.Max(1, ChunkElements / (tables.Locations * tables.Channels));
        var parts = new List<Tensor>();
        long emptySpecific = 0, noPartner = 0, rejectedAmbiguous = 0;
        try
        {
            for (int start = 0; start < rows; start += chunk)
            {
                using var scope = torch.NewDisposeScope();
                int count = Math.Min(chunk, rows - start);
                var uniforms = torch.rand(new long[] { count, tables.Locations }, ScalarType.Float64, generator: generator);
                var fused = FuseRows(tables,
                    samplesTensor.narrow(0, start, count), slotsTensor.narrow(0, start, count),
                    gamma.narrow(0, start, count), partner.narrow(0, start, count), uniforms);
                emptySpecific += fused.EmptySpecific.sum().item<long>();
                noPartner += fused.NoPartner.sum().item<long>();
                var clean = tables.CleanPooled.index_select(0, samplesTensor.narrow(0, start, count));
                var chunkFeatures = matchTailNorm ? MatchNorms(fused.Features, clean) : fused.Features;
                if (rejectAmbiguous)
                {
                    var isFused = fused.EmptySpecific.logical_or(fused.NoPartner).logical_not();
                    var (kept, rejected) = RejectAmbiguous(chunkFeatures, clean, tables.TailMean,
                        tables.SlotMeans.index_select(0, slotsTensor.narrow(0, start, count)), isFused);
                    rejectedAmbiguous += rejected.sum().item<long>();
                    chunkFeatures = kept;
                }
                parts.Add(chunkFeatures.DetachFromDisposeScope());
            }
            var features = parts.Count == 0 ? torch.empty(0, tables.Channels) : torch.cat(parts, 0);
            var statistics = new FusionStatistics(
                tail.ClassId, rows, (int)emptySpecific, (int)noPartner,
                tables.SamplesWithoutSpecific, tables.MeanSpecificVectors, tables.MeanGenericVectors, (int)rejectedAmbiguous);
            return new FusionBank(tail.ClassId, features, statistics);
        }
        finally
        {
            foreach (var part in parts) part.Dispose();
        }
    }

    /// <summary>Fused features of some rows and why rows fell back.</summary>
    internal sealed record FusedRows(Tensor Features, Tensor EmptySpecific, Tensor NoPartner);

    /// <summary>
    /// The deterministic core of fusion, for given draws (tests pass hand-made ones).
    /// Row r: tail sample tailSamples[r] fused with confusing slot slots[r]; gamma[r] sets n_s = round(gamma L);
    /// partner u = the floor(partnerUniform[r] * Q)-th of the slot's Q qualifying samples; location j &lt; n_s takes
    /// S_t's vector floor(U[r, j] |S_t|), the others G_u's vector floor(U[r, j] |G_u|). Fallback rows get the clean f_t.
    /// An EmptySpecific row never counts as NoPartner.
    /// </summary>
    internal static FusedRows FuseRows(DecomposedFeatures tables, Tensor tailSamples, Tensor slots, Tensor gamma, Tensor partnerUniform, Tensor vectorUniforms)
    {
        using var scope = torch.NewDisposeScope();
        long rows = tailSamples.shape[0], locations = tables.Locations;
        var specificCount = tables.SpecificCount.index_select(0, tailSamples);
        var specificStart = tables.SpecificStart.index_select(0, tailSamples);
        var qualifyingSize = tables.SlotQualifyingSize.index_select(0, slots);
        var qualifyingOffset = tables.SlotQualifyingOffset.index_select(0, slots);
        var hasSpecific = specificCount > 0;
        var hasPartner = qualifyingSize > 0;
        var usable = hasSpecific.logical_and(hasPartner);
        var fallback = tables.CleanPooled.index_select(0, tailSamples);
        Tensor features;
        if (!usable.any().item<bool>())
        {
            features = fallback;
        }
        else
        {
            var partnerPick = PickIndex(partnerUniform, qualifyingSize);
            var partner = torch.where(hasPartner, qualifyingOffset + partnerPick, torch.zeros_like(partnerPick));
            var genericStart = tables.QualifyingStart.index_select(0, partner);
            var genericCount = tables.QualifyingCount.index_select(0, partner);

            var specificShare = torch.round(gamma * locations).to_type(ScalarType.Int64);                 // n_s per row
            var fromSpecific = torch.arange(locations).unsqueeze(0) < specificShare.unsqueeze(1);         // rows x L
            var specificIndex = specificStart.unsqueeze(1) + PickIndex(vectorUniforms, specificCount.unsqueeze(1));
            var genericIndex = genericStart.unsqueeze(1) + PickIndex(vectorUniforms, genericCount.unsqueeze(1));
            var index = torch.where(fromSpecific, specificIndex, genericIndex);
            index = torch.where(usable.unsqueeze(1), index, torch.zeros_like(index));
            // Each row of index is one bag of L table rows; the bag's mean is the fused feature (no rows x L x K copy).
            using var noGrad = torch.no_grad();
            var means = tables.MeanOfRows.forward(index, null, null);
            features = torch.where(usable.unsqueeze(1), means, fallback);
        }
        return new FusedRows(
            features.MoveToOuterDisposeScope(),
            hasSpecific.logical_not().MoveToOuterDisposeScope(),
            hasSpecific.logical_and(hasPartner.logical_not()).MoveToOuterDisposeScope());
    }

    /// <summary>floor(u * n) clamped to [0, n - 1] (0 where n is 0): a uniform pick among n items.</summary>
    private static Tensor PickIndex(Tensor uniforms, Tensor counts)
    {
        var picked = (uniforms * counts).floor().to_type(ScalarType.Int64);
        return torch.minimum(picked, (counts - 1).clamp_min(0));
    }
}
