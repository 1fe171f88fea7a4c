using FeatureAug.Core.Fsa;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Fsa;

public class FusionTests
{
    // 2 x 2 maps (L = 4), K = 2, thresholds tau_s = 0.8, tau_g = 0.2.
    //  Tail class 5, sample 0: S = {[1,2], [3,4]} (location 2 is above tau_s but its vector is zero).
    //  Tail class 5, sample 1: CAM 0.5 everywhere, S empty.
    //  Confusing class 0: sample 0 G = {[10,20], [30,40]} (location 3 is a zero vector); sample 1 constant CAM, G empty.
    //  Confusing class 1: its only sample has a constant CAM (all specific), so no partner qualifies.
    private static ClassFeatures Tail() => FsaTestData.HandMadeClass(5, 6,
        new[]
        {
            new[] { new float[] { 1, 2 }, new float[] { 3, 4 }, new float[] { 0, 0 }, new float[] { 5, 6 } },
            new[] { new float[] { 7, 7 }, new float[] { 8, 8 }, new float[] { 9, 9 }, new float[] { 4, 4 } },
        },
        new[] { new[] { 0.9f, 0.85f, 0.95f, 0.1f }, new[] { 0.5f, 0.5f, 0.5f, 0.5f } }, 2, 2);

    private static ClassFeatures ConfusingWithPartner() => FsaTestData.HandMadeClass(0, 6,
        new[]
        {
            new[] { new float[] { 10, 20 }, new float[] { 30, 40 }, new float[] { 50, 60 }, new float[] { 0, 0 } },
            new[] { new float[] { 1, 1 }, new float[] { 1, 1 }, new float[] { 1, 1 }, new float[] { 1, 1 } },
        },
        new[] { new[] { 0.1f, 0.0f, 0.5f, 0.15f }, new[] { 1f, 1f, 1f, 1f } }, 2, 2);

    private static ClassFeatures ConfusingWithoutPartner() => FsaTestData.HandMadeClass(1, 6,
        new[] { new[] { new float[] { 2, 2 }, new float[] { 2, 2 }, new float[] { 2, 2 }, new float[] { 2, 2 } } },
        new[] { new[] { 1f, 1f, 1f, 1f } }, 2, 2);

    [Fact]
    public void AFusedFeatureIsTheMeanOfTheDrawnSpecificAndGenericVectors()
    {
        using var tail = Tail();
        using var partner = ConfusingWithPartner();
        using var none = ConfusingWithoutPartner();
        using var tables = DecomposedFeatures.Build(tail, new[] { partner, none }, 0.8, 0.2);
        using var scope = torch.NewDisposeScope();

        var fused = FeatureFusion.FuseRows(tables,
            tailSamples: torch.tensor(new long[] { 0, 0, 0, 1, 0 }),
            slots: torch.tensor(new long[] { 0, 0, 0, 0, 1 }),
            gamma: torch.tensor(new double[] { 0.5, 0.0, 0.9, 0.5, 0.5 }),
            partnerUniform: torch.tensor(new double[] { 0.7, 0.0, 0.99, 0.5, 0.5 }),
            vectorUniforms: torch.tensor(new double[]
            {
                0.0, 0.6, 0.49, 0.99,   // n_s = 2: S[0], S[1], G[0], G[1]
                0.2, 0.7, 0.7, 0.1,     // n_s = 0: G[0], G[1], G[1], G[0]
                0.5, 0.5, 0.1, 0.9,     // n_s = round(3.6) = 4: S[1], S[1], S[0], S[1]
                0.0, 0.0, 0.0, 0.0,
                0.0, 0.0, 0.0, 0.0,
            }, new long[] { 5, 4 }));

        var rows = FsaTestData.Row(fused.Features);
        Assert.Equal(new float[] { (1 + 3 + 10 + 30) / 4f, (2 + 4 + 20 + 40) / 4f }, rows[0..2]);
        Assert.Equal(new float[] { (10 + 30 + 30 + 10) / 4f, (20 + 40 + 40 + 20) / 4f }, rows[2..4]);   // gamma extreme: n_s = 0
        Assert.Equal(new float[] { (3 + 3 + 1 + 3) / 4f, (4 + 4 + 2 + 4) / 4f }, rows[4..6]);           // n_s = L
        Assert.Equal(new float[] { 7, 7 }, rows[6..8]);                                                   // S_t empty: the real f_t
        Assert.Equal(new float[] { 2.25f, 3 }, rows[8..10]);                                              // no partner: the real f_t
        Assert.Equal(new[] { false, false, false, true, false }, fused.EmptySpecific.data<bool>().ToArray());
        Assert.Equal(new[] { false, false, false, false, true }, fused.NoPartner.data<bool>().ToArray());
    }

    [Fact]
    public void TheGammaExtremesTakeOnlyGenericOrOnlySpecificVectors()
    {
        using var tail = Tail();
        using var partner = ConfusingWithPartner();
        using var tables = DecomposedFeatures.Build(tail, new[] { partner }, 0.8, 0.2);
        using var scope = torch.NewDisposeScope();
        var uniforms = torch.tensor(new double[] { 0.1, 0.3, 0.6, 0.8, 0.1, 0.3, 0.6, 0.8 }, new long[] { 2, 4 });

        var fused = FeatureFusion.FuseRows(tables, torch.tensor(new long[] { 0, 0 }), torch.tensor(new long[] { 0, 0 }),
            torch.tensor(new double[] { 0.0, 0.999 }), torch.tensor(new double[] { 0.0, 0.0 }), uniforms);

        // gamma = 0: n_s = 0, picks G[0], G[0], G[1], G[1]; gamma ~ 1: n_s = L, picks S[0], S[0], S[1], S[1].
        Assert.Equal(new float[] { 20, 30, 2, 3 }, FsaTestData.Row(fused.Features));
    }

    [Fact]
    public void ABankFusesEachDrawWithItsConfusingClassesInTurnAndCountsFallbacks()
    {
        using var tail = Tail();
        using var partner = ConfusingWithPartner();
        using var none = ConfusingWithoutPartner();
        int[] draws = { 0, 1, 0, 0 };

        using var bank = FeatureFusion.FuseTailClass(tail, new[] { partner, none }, draws, na: 3, tauS: 0.8, tauG: 0.2, seed: 4);
        using var again = FeatureFusion.FuseTailClass(tail, new[] { partner, none }, draws, na: 3, tauS: 0.8, tauG: 0.2, seed: 4);

        Assert.Equal(5, bank.ClassId);
        Assert.Equal(new long[] { 12, 2 }, bank.Features.shape);
        Assert.Equal(FsaTestData.Row(bank.Features), FsaTestData.Row(again.Features));
        // Entry k * 3 + a uses slot a mod 2: slots 0, 1, 0. Sample 1 (draw 1) always falls back for lack of S_t;
        // sample 0 falls back on slot 1 (no partner qualifies).
        var s = bank.Statistics;
        Assert.Equal((12, 3, 3, 1), (s.Generated, s.FallbackEmptySpecific, s.FallbackNoGenericPartner, s.SamplesWithoutSpecific));
        Assert.Equal(1.0, s.MeanSpecificVectors);                 // |S| = 2 and 0
        Assert.Equal(2.0 / 3, s.MeanGenericVectors, 12);          // |G| = 2, 0 and 0 over the three confusing samples

        var rows = FsaTestData.Row(bank.Features);
        var possible = PossibleMeans(new[] { (1f, 2f), (3f, 4f) }, new[] { (10f, 20f), (30f, 40f) }, 4);
        for (int entry = 0; entry < 12; entry++)
        {
            var row = (rows[2 * entry], rows[2 * entry + 1]);
            int draw = entry / 3, slot = entry % 3 % 2;
            if (draws[draw] == 1) Assert.Equal((7f, 7f), row);
            else if (slot == 1) Assert.Equal((2.25f, 3f), row);
            else Assert.Contains(row, possible);
        }

        using var otherSeed = FeatureFusion.FuseTailClass(tail, new[] { partner, none }, draws, na: 3, tauS: 0.8, tauG: 0.2, seed: 5);
        Assert.NotEqual(rows, FsaTestData.Row(otherSeed.Features));
    }

    [Fact]
    public void MatchNormsScalesEachRowToItsReferenceRowsNormAndLeavesZeroRowsAlone()
    {
        using var fused = torch.tensor(new float[] { 3, 4, 0, 0, 1, 0 }).reshape(3, 2);
        using var reference = torch.tensor(new float[] { 0, 10, 5, 5, 0, 2 }).reshape(3, 2);

        using var matched = FeatureFusion.MatchNorms(fused, reference);

        Assert.Equal(new float[] { 6, 8, 0, 0, 2, 0 }, FsaTestData.Row(matched));
    }

    [Fact]
    public void ANormMatchedBankKeepsEachFusedDirectionAndTakesItsTailSamplesNorm()
    {
        using var tail = Tail();
        using var partner = ConfusingWithPartner();
        using var none = ConfusingWithoutPartner();
        int[] draws = { 0, 1, 0, 0 };

        using var bank = FeatureFusion.FuseTailClass(tail, new[] { partner, none }, draws, na: 3, tauS: 0.8, tauG: 0.2, seed: 4);
        using var matched = FeatureFusion.FuseTailClass(tail, new[] { partner, none }, draws, na: 3, tauS: 0.8, tauG: 0.2, seed: 4, matchTailNorm: true);

        Assert.Equal(bank.Statistics, matched.Statistics);
        for (int entry = 0; entry < 12; entry++)
        {
            var row = FsaTestData.Row(bank.Features[entry]);
            var scaled = FsaTestData.Row(matched.Features[entry]);
            var source = FsaTestData.Row(tail.Pooled[draws[entry / 3], 0]);
            double scale = Norm(source) / Norm(row);
            Assert.Equal(row[0] * scale, scaled[0], 4);
            Assert.Equal(row[1] * scale, scaled[1], 4);
        }
    }

    private static double Norm(float[] row) => Math.Sqrt(row.Sum(v => (double)v * v));

    [Fact]
    public void FuseAllGivesEachFusedClassTheBankOfItsOwnDrawsSeedAndThePlansOptions()
    {
        using var scope = torch.NewDisposeScope();
        var weight = torch.rand(new long[] { 3, 16 }, generator: new torch.Generator(1));
        using var features = FsaTestData.Synthetic(new[] { 50, 40, 5 }, 16, 4, 4, 0, weight, torch.zeros(3), seed: 2);
        var options = new FsaOptions { HeadRatio = 0.9, Nf = 2, Na = 2, Nt = 4, FineTuneIterations = 50, MatchFusedNorm = true, RejectAmbiguousFused = true };
        var plan = AugmentationPlan.Create(features.ClassCounts(), features.MeanScores(), options, seed: 9);

        var banks = FeatureFusion.FuseAll(plan, features);

        Assert.Equal(new[] { 2 }, plan.FusedClasses);
        Assert.Equal(plan.FusedClasses, banks.Select(b => b.ClassId));
        foreach (var bank in banks)
        {
            int c = bank.ClassId;
            using var expected = FeatureFusion.FuseTailClass(features.Classes[c], plan.ConfusingClasses[c].Select(k => features.Classes[k]).ToList(),
                plan.TailDrawsOfClass(c), na: 2, options.TauS, options.TauG, plan.FusionSeed(c), matchTailNorm: true, rejectAmbiguous: true);
            Assert.True(FsaTestData.Same(expected.Features, bank.Features));
            Assert.Equal(expected.Statistics, bank.Statistics);
            bank.Dispose();
        }
    }

    [Fact]
    public void RejectAmbiguousReplacesFusedRowsNearerTheirPartnersMeanByTheRealFeature()
    {
        // Tail mean (0, 0). Row 0 is nearer its partner's mean (4, 0), row 1 nearer the tail, row 2 equidistant (kept),
        // row 3 nearer its partner but a fallback row already (not fused: never counted).
        using var fused = torch.tensor(new float[] { 3, 0, 1, 0, 2, 0, 3, 3 }).reshape(4, 2);
        using var clean = torch.tensor(new float[] { -1, 0, -2, 0, -3, 0, -4, 0 }).reshape(4, 2);
        using var tailMean = torch.zeros(1, 2);
        using var partnerMeans = torch.tensor(new float[] { 4, 0, 4, 0, 4, 0, 3, 3 }).reshape(4, 2);
        using var isFused = torch.tensor(new[] { true, true, true, false });

        var (features, rejected) = FeatureFusion.RejectAmbiguous(fused, clean, tailMean, partnerMeans, isFused);
        using (features)
        using (rejected)
        {
            Assert.Equal(new float[] { -1, 0, 1, 0, 2, 0, 3, 3 }, FsaTestData.Row(features));
            Assert.Equal(new[] { true, false, false, false }, rejected.data<bool>().ToArray());
        }
    }

    [Fact]
    public void ARejectingBankDiffersOnlyInRejectedEntriesWhichAreTheirTailSamplesRealFeatures()
    {
        using var scope = torch.NewDisposeScope();
        var weight = torch.rand(new long[] { 3, 16 }, generator: new torch.Generator(1));
        using var features = FsaTestData.Synthetic(new[] { 50, 40, 5 }, 16, 4, 4, 0, weight, torch.zeros(3), seed: 2);
        var tail = features.Classes[2];
        var confusing = new[] { features.Classes[0], features.Classes[1] };
        var draws = Enumerable.Range(0, 300).Select(i => i % 5).ToArray();

        using var bank = FeatureFusion.FuseTailClass(tail, confusing, draws, 2, 0.8, 0.2, seed: 7);
        using var filtered = FeatureFusion.FuseTailClass(tail, confusing, draws, 2, 0.8, 0.2, seed: 7, rejectAmbiguous: true);

        var tailMean = tail.Pooled.select(1, 0).mean(new long[] { 0 });
        var means = confusing.Select(c => c.Pooled.select(1, 0).mean(new long[] { 0 })).ToArray();
        int expectedRejected = 0;
        for (int entry = 0; entry < 600; entry++)
        {
            var fused = bank.Features[entry];
            var real = tail.Pooled[draws[entry / 2], 0];
            bool nearerPartner = (fused - means[entry % 2]).square().sum().item<float>() < (fused - tailMean).square().sum().item<float>();
            expectedRejected += nearerPartner ? 1 : 0;
            Assert.True(FsaTestData.Same(nearerPartner ? real : fused, filtered.Features[entry]), $"entry {entry}");
        }
        Assert.InRange(expectedRejected, 1, 599);   // the case is not vacuous either way
        Assert.Equal(expectedRejected, filtered.Statistics.RejectedAmbiguous);
        Assert.Equal(bank.Statistics with { RejectedAmbiguous = expectedRejected }, filtered.Statistics);
    }

    [Fact]
    public void LargerDrawsAreRepeatableAcrossChunks()
    {
        using var scope = torch.NewDisposeScope();
        var weight = torch.rand(new long[] { 3, 16 }, generator: new torch.Generator(1));
        using var features = FsaTestData.Synthetic(new[] { 50, 40, 5 }, 16, 4, 4, 0, weight, torch.zeros(3), seed: 2);
        var draws = Enumerable.Range(0, 9000).Select(i => i % 5).ToArray();   // 27,000 entries: many chunks

        using var bank = FeatureFusion.FuseTailClass(features.Classes[2], new[] { features.Classes[0], features.Classes[1] }, draws, 3, 0.8, 0.2, seed: 7);
        using var again = FeatureFusion.FuseTailClass(features.Classes[2], new[] { features.Classes[0], features.Classes[1] }, draws, 3, 0.8, 0.2, seed: 7);

        Assert.Equal(new long[] { 27000, 16 }, bank.Features.shape);
        Assert.True(FsaTestData.Same(bank.Features, again.Features));
        Assert.Equal(0, bank.Statistics.Fallbacks);
        // Every fused feature lies between the smallest and largest vector it could be made of.
        var low = torch.minimum(features.Classes[2].Vectors.amin(new long[] { 0, 1, 2 }), torch.minimum(features.Classes[0].Vectors.amin(new long[] { 0, 1, 2 }), features.Classes[1].Vectors.amin(new long[] { 0, 1, 2 })));
        var high = torch.maximum(features.Classes[2].Vectors.amax(new long[] { 0, 1, 2 }), torch.maximum(features.Classes[0].Vectors.amax(new long[] { 0, 1, 2 }), features.Classes[1].Vectors.amax(new long[] { 0, 1, 2 })));
        Assert.True((bank.Features >= low - 1e-5f).all().item<bool>() && (bank.Features <= high + 1e-5f).all().item<bool>());
    }

    /// <summary>Every mean of L vectors with n_s from the specific set and L - n_s from the generic set.</summary>
    private static HashSet<(float, float)> PossibleMeans((float X, float Y)[] specific, (float X, float Y)[] generic, int locations)
    {
        var means = new HashSet<(float, float)>();
        for (int ns = 0; ns <= locations; ns++)
            for (int fromFirstSpecific = 0; fromFirstSpecific <= ns; fromFirstSpecific++)
                for (int fromFirstGeneric = 0; fromFirstGeneric <= locations - ns; fromFirstGeneric++)
                {
                    float x = fromFirstSpecific * specific[0].X + (ns - fromFirstSpecific) * specific[1].X
                        + fromFirstGeneric * generic[0].X + (locations - ns - fromFirstGeneric) * generic[1].X;
                    float y = fromFirstSpecific * specific[0].Y + (ns - fromFirstSpecific) * specific[1].Y
                        + fromFirstGeneric * generic[0].Y + (locations - ns - fromFirstGeneric) * generic[1].Y;
                    means.Add((x / locations, y / locations));
                }
        return means;
    }
}
