using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Fsa;

public class FeatureExtractorTests
{
    private static readonly int[] Labels = { 2, 0, 1, 0, 2, 2, 1 };

    [Fact]
    public void ExtractionKeepsPerClassFeaturesScoresAndOwnLabelCams()
    {
        torch.manual_seed(3);
        using var model = new TinyFeatureClassifier(1, 3, 3);
        var data = FsaTestData.Images(Labels, 3, seed: 5);
        var norm = Normalization.FromDataset(data);
        model.train();

        using var extracted = FeatureExtractor.Extract(model, data, norm, batchSize: 3, torch.CPU);

        Assert.True(model.training, "the model's training mode is restored");
        Assert.Equal(new[] { 2, 2, 3 }, extracted.ClassCounts());
        Assert.Equal(new[] { 1, 3 }, extracted.Classes[0].SampleIndices);
        Assert.Equal(new[] { 2, 6 }, extracted.Classes[1].SampleIndices);
        Assert.Equal(new[] { 0, 4, 5 }, extracted.Classes[2].SampleIndices);
        Assert.Equal((3, 1, 4, 4), (extracted.FeatureChannels, extracted.ViewsPerSample, extracted.MapHeight, extracted.MapWidth));

        using var noGrad = torch.no_grad();
        model.eval();
        var weight = model.Classifier.weight!;
        foreach (var features in extracted.Classes)
        {
            using var scope = torch.NewDisposeScope();
            var images = ImageTensors.ToBatch(data, features.SampleIndices, norm);
            var maps = model.ForwardFeatures(images);                                   // n x K x 4 x 4
            Assert.Equal(FsaTestData.Row(maps.mean(new long[] { 2, 3 })), FsaTestData.Row(features.Pooled.select(1, 0)), new FloatTolerance(1e-6f));
            Assert.Equal(FsaTestData.Row(torch.softmax(model.forward(images), 1)), FsaTestData.Row(features.Scores), new FloatTolerance(1e-6f));
            Assert.Equal(FsaTestData.Row(maps.reshape(features.Count, 3, 16).transpose(1, 2)), FsaTestData.Row(features.Vectors.select(1, 0)), new FloatTolerance(1e-6f));

            // The CAM written out as the explicit weighted sum over channels, then min-max normalised.
            var w = weight.data<float>().ToArray();
            var f = FsaTestData.Row(maps);
            var cams = FsaTestData.Row(features.Cams.select(1, 0));
            for (int i = 0; i < features.Count; i++)
            {
                var raw = new double[16];
                for (int p = 0; p < 16; p++)
                    for (int k = 0; k < 3; k++)
                        raw[p] += w[features.ClassId * 3 + k] * f[(i * 3 + k) * 16 + p];
                double min = raw.Min(), max = raw.Max();
                for (int p = 0; p < 16; p++)
                {
                    double expected = max - min <= 1e-6 * Math.Max(Math.Abs(min), Math.Abs(max)) ? 1 : (raw[p] - min) / (max - min);
                    Assert.Equal(expected, cams[i * 16 + p], 5);
                }
            }
        }
    }

    [Fact]
    public void ViewsAreSeededAugmentationsBesidesTheCleanImage()
    {
        torch.manual_seed(4);
        using var model = new TinyFeatureClassifier(1, 2, 3);
        var data = FsaTestData.Images(Labels, 3, seed: 6);
        var norm = Normalization.FromDataset(data);
        var augmentation = new AugmentationOptions(CropPadding: 1);

        using var clean = FeatureExtractor.Extract(model, data, norm, 4, torch.CPU);
        using var first = FeatureExtractor.Extract(model, data, norm, 4, torch.CPU, views: 2, augmentation, seed: 9, storeVectorsAsHalf: true);
        using var again = FeatureExtractor.Extract(model, data, norm, 4, torch.CPU, views: 2, augmentation, seed: 9, storeVectorsAsHalf: true);
        using var other = FeatureExtractor.Extract(model, data, norm, 4, torch.CPU, views: 2, augmentation, seed: 10, storeVectorsAsHalf: true);

        Assert.Equal(3, first.ViewsPerSample);
        Assert.Equal(ScalarType.Float16, first.Classes[0].Vectors.dtype);
        bool viewsDiffer = false, seedsDiffer = false;
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(FsaTestData.Row(clean.Classes[c].Pooled.select(1, 0)), FsaTestData.Row(first.Classes[c].Pooled.select(1, 0)));
            Assert.Equal(FsaTestData.Row(clean.Classes[c].Cams.select(1, 0)), FsaTestData.Row(first.Classes[c].Cams.select(1, 0)));
            Assert.Equal(FsaTestData.Row(first.Classes[c].Pooled), FsaTestData.Row(again.Classes[c].Pooled));
            Assert.Equal(FsaTestData.Row(first.Classes[c].Vectors), FsaTestData.Row(again.Classes[c].Vectors));
            viewsDiffer |= !FsaTestData.Row(first.Classes[c].Pooled.select(1, 0)).SequenceEqual(FsaTestData.Row(first.Classes[c].Pooled.select(1, 1)));
            seedsDiffer |= !FsaTestData.Row(first.Classes[c].Pooled).SequenceEqual(FsaTestData.Row(other.Classes[c].Pooled));
        }
        Assert.True(viewsDiffer, "augmented views differ from the clean view");
        Assert.True(seedsDiffer, "another seed gives other views");
    }

    [Fact]
    public void PooledTestFeaturesKeepDatasetOrder()
    {
        torch.manual_seed(5);
        using var model = new TinyFeatureClassifier(1, 2, 3);
        var data = FsaTestData.Images(Labels, 3, seed: 7);
        var norm = Normalization.FromDataset(data);

        using var pooled = FeatureExtractor.ExtractPooled(model, data, norm, 2, torch.CPU);
        using var noGrad = torch.no_grad();
        model.eval();
        using var images = ImageTensors.ToBatch(data, Enumerable.Range(0, data.Count).ToArray(), norm);
        using var expected = model.ForwardPooled(images);

        Assert.Equal(new long[] { 7, 2 }, pooled.shape);
        Assert.Equal(FsaTestData.Row(expected), FsaTestData.Row(pooled), new FloatTolerance(1e-6f));
    }
}

internal sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
    public int GetHashCode(float value) => 0;
}
