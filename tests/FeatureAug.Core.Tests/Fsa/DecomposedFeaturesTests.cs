using FeatureAug.Core.Fsa;
using TorchSharp;

namespace FeatureAug.Core.Tests.Fsa;

public class DecomposedFeaturesTests
{
    // 1 x 2 maps (L = 2), K = 2, two views per sample: S_i (CAM > tau_s) and G_i (CAM < tau_g) over both views.
    private static ClassFeatures TwoViewClass()
    {
        var vectors = torch.tensor(new float[]
        {
            1, 2, 3, 4,     5, 6, 0, 0,      // sample 0: view 0 locations 0, 1; view 1 locations 0, 1 (last is a zero vector)
            7, 8, 9, 10,    11, 12, 13, 14,  // sample 1
        }, new long[] { 2, 2, 2, 2 });
        var cams = torch.tensor(new float[] { 0.9f, 0.1f, 0.5f, 0.95f, 0.15f, 0.85f, 0.81f, 0.19f }, new long[] { 2, 2, 2 });
        return new ClassFeatures(3, [0, 1], vectors.mean(new long[] { 2 }), vectors, cams, torch.full(2, 4, 0.25f), 1, 2);
    }

    [Fact]
    public void SpecificAndGenericVectorsAreSelectedWithTheirOwnThresholdOverEveryView()
    {
        using var features = TwoViewClass();
        using var scope = torch.NewDisposeScope();

        var (specific, specificCount) = DecomposedFeatures.SpecificVectors(features, tauS: 0.8);
        var (generic, genericCount) = DecomposedFeatures.GenericVectors(features, tauG: 0.2);

        // Sample 0: specific at view 0 location 0 only (view 1 location 1 is above tau_s but zero); sample 1: 0.85 and 0.81.
        Assert.Equal(new float[] { 1, 2, 9, 10, 11, 12 }, FsaTestData.Row(specific));
        Assert.Equal(new long[] { 1, 2 }, specificCount.data<long>().ToArray());
        Assert.Equal(new float[] { 3, 4, 7, 8, 13, 14 }, FsaTestData.Row(generic));
        Assert.Equal(new long[] { 1, 2 }, genericCount.data<long>().ToArray());
    }

    [Fact]
    public void TheTableHoldsTheTailsSpecificThenEachSlotsGenericVectors()
    {
        using var tail = TwoViewClass();
        using var confusing = TwoViewClass();

        using var tables = DecomposedFeatures.Build(tail, [confusing], tauS: 0.8, tauG: 0.2);

        Assert.Equal(new float[] { 1, 2, 9, 10, 11, 12, 3, 4, 7, 8, 13, 14 }, FsaTestData.Row(tables.Vectors));
        Assert.Equal(new long[] { 0, 1 }, tables.SpecificStart.data<long>().ToArray());
        Assert.Equal(new long[] { 3, 4 }, tables.QualifyingStart.data<long>().ToArray());
        Assert.Equal((2, 2, 1.5, 1.5), (tables.Locations, tables.Channels, tables.MeanSpecificVectors, tables.MeanGenericVectors));
    }
}
