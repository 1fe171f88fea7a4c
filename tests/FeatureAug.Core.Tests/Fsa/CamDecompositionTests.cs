using FeatureAug.Core.Fsa;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Fsa;

public class CamDecompositionTests
{
    [Fact]
    public void CamIsTheLabelRowWeightedSumOverChannels()
    {
        using var scope = torch.NewDisposeScope();
        // Two samples, K = 2 channels, 1 x 3 maps, 3 classes.
        var maps = torch.tensor(new float[]
        {
            1, 2, 3,   4, 5, 6,     // sample 0: channel 0, channel 1
            0, 1, 0,   2, 0, 1,     // sample 1
        }, new long[] { 2, 2, 1, 3 });
        var weight = torch.tensor(new float[] { 1, 0, 0.5f, -1, 2, 3 }, new long[] { 3, 2 });
        var labels = torch.tensor(new long[] { 1, 2 });

        var cams = CamDecomposition.OwnLabelCams(maps, weight, labels);

        // sample 0, class 1 (w = 0.5, -1): 0.5*[1,2,3] - [4,5,6]; sample 1, class 2 (w = 2, 3): 2*[0,1,0] + 3*[2,0,1].
        Assert.Equal(new long[] { 2, 3 }, cams.shape);
        Assert.Equal(new float[] { -3.5f, -4f, -4.5f, 6f, 2f, 3f }, FsaTestData.Row(cams));
    }

    [Fact]
    public void NormalisationMapsEachRowOntoZeroToOneAndAConstantRowToOnes()
    {
        using var scope = torch.NewDisposeScope();
        var cams = torch.tensor(new float[] { -2, 0, 2, 6, 5, 5, 5, 5, 0, 0, 0, 0 }, new long[] { 3, 4 });

        var normalized = CamDecomposition.NormalizeMinMax(cams);

        Assert.Equal(new float[] { 0, 0.25f, 0.5f, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, FsaTestData.Row(normalized));
    }

    [Fact]
    public void AMapConstantUpToRoundingCountsAsConstant()
    {
        using var scope = torch.NewDisposeScope();
        var cams = torch.tensor(new float[] { 3f, 3f * (1 + 1e-7f), 3f }, new long[] { 1, 3 });
        Assert.Equal(new float[] { 1, 1, 1 }, FsaTestData.Row(CamDecomposition.NormalizeMinMax(cams)));
    }

    [Fact]
    public void MasksFollowTheThresholdsStrictlyAndExcludeZeroVectors()
    {
        using var scope = torch.NewDisposeScope();
        // One sample, five locations, K = 2: CAM values around the thresholds; location 4 has a zero vector.
        var cams = torch.tensor(new float[] { 0.1f, 0.2f, 0.5f, 0.8f, 0.9f, }, new long[] { 1, 5 });
        var vectors = torch.tensor(new float[] { 1, 0, 0, 1, 1, 1, 2, 0, 0, 0 }, new long[] { 1, 5, 2 });
        var zeroGeneric = torch.tensor(new float[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 }, new long[] { 1, 5, 2 });

        var specific = CamDecomposition.SpecificMask(cams, vectors, 0.8);
        var generic = CamDecomposition.GenericMask(cams, vectors, 0.2);

        // > 0.8 only at 0.9, but that vector is zero; < 0.2 only at 0.1.
        Assert.Equal(new[] { false, false, false, false, false }, specific.data<bool>().ToArray());
        Assert.Equal(new[] { true, false, false, false, false }, generic.data<bool>().ToArray());
        Assert.Equal(new[] { false, false, false, true, true }, CamDecomposition.SpecificMask(cams, zeroGeneric, 0.5).data<bool>().ToArray());
        Assert.Equal(new[] { false, true, true, true, true }, CamDecomposition.NonZero(zeroGeneric).data<bool>().ToArray());
        Assert.Equal(new[] { false, false, false, false, false }, CamDecomposition.GenericMask(cams, zeroGeneric, 0.2).data<bool>().ToArray());
    }
}
