using System.Diagnostics;
using FeatureAug.Core.Data;

namespace FeatureAug.Core.Tests.Data;

public class DatasetCatalogTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData("fashion-mnist-lt", DatasetKind.FashionMnistLt)]
    [InlineData("cifar10-lt", DatasetKind.Cifar10Lt)]
    [InlineData("cifar100-lt", DatasetKind.Cifar100Lt)]
    [InlineData("idx", DatasetKind.Idx)]
    [InlineData("cifar10", DatasetKind.Cifar10)]
    [InlineData("cifar100", DatasetKind.Cifar100)]
    [InlineData("imagefolder", DatasetKind.ImageFolder)]
    [InlineData("CIFAR10", DatasetKind.Cifar10)]
    public void ParsesCliNames(string name, DatasetKind kind)
    {
        Assert.Equal(kind, DatasetCatalog.ParseKind(name));
    }

    [Fact]
    public void UnknownNameListsTheValidOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => DatasetCatalog.ParseKind("mnist"));

        Assert.StartsWith("Unknown dataset 'mnist'; valid names: fashion-mnist-lt, cifar10-lt, cifar100-lt, idx, cifar10, cifar100, imagefolder.", error.Message);
    }

    [Fact]
    public void KindNamesRoundTrip()
    {
        foreach (var kind in Enum.GetValues<DatasetKind>())
            Assert.Equal(kind, DatasetCatalog.ParseKind(DatasetCatalog.KindName(kind)));
    }

    /// <summary>MNIST-format folder: train 12 images (labels cycle 0..3), test 8 images; raw and gzip mixed.</summary>
    private void WriteIdxFolder(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Images(12, 2, 2, IdxBytes.ImageId)));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), IdxBytes.Labels(Enumerable.Range(0, 12).Select(i => (byte)(i % 4)).ToArray()));
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), IdxBytes.Images(8, 2, 2, IdxBytes.ImageId));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Labels(Enumerable.Range(0, 8).Select(i => (byte)(i % 4)).ToArray())));
    }

    [Fact]
    public async Task IdxWithMaxPerClassCapsTrainingOnly()
    {
        WriteIdxFolder(temp.Path);

        var split = await DatasetCatalog.LoadAsync(new DatasetRequest(DatasetKind.Idx, temp.Path, MaxPerClass: 2));

        Assert.Equal("idx-max2", split.Name);
        Assert.Equal([2, 2, 2, 2], split.Train.ClassCounts()); // classes 0 up to the largest label
        Assert.Equal(8, split.Test.Count);
        Assert.Equal(IdxBytes.Images(8, 2, 2, IdxBytes.ImageId)[16..], split.Test.Pixels);
    }

    [Fact]
    public async Task IdxFolderMissingAFileNamesIt()
    {
        WriteIdxFolder(temp.Path);
        File.Delete(temp.Combine("t10k-labels-idx1-ubyte.gz"));

        var error = await Assert.ThrowsAsync<DatasetFormatException>(
            () => DatasetCatalog.LoadAsync(new DatasetRequest(DatasetKind.Idx, temp.Path)));

        Assert.Equal(temp.Combine("t10k-labels-idx1-ubyte"), error.FilePath);
        Assert.StartsWith("file not found", error.Problem);
    }

    [Fact]
    public async Task FashionMnistLtFromAFolderBuildsTheLongTailAndKeepsTheBalancedTestSet()
    {
        // Fashion-MNIST files in a folder: 10 classes x 4 training images, 2 test images per class.
        var trainLabels = Enumerable.Range(0, 40).Select(i => (byte)(i % 10)).ToArray();
        var testLabels = Enumerable.Range(0, 20).Select(i => (byte)(i % 10)).ToArray();
        File.WriteAllBytes(temp.Combine(FashionMnist.TrainImagesFile), IdxBytes.Gzip(IdxBytes.Images(40, 2, 2, IdxBytes.ImageId)));
        File.WriteAllBytes(temp.Combine(FashionMnist.TrainLabelsFile), IdxBytes.Gzip(IdxBytes.Labels(trainLabels)));
        File.WriteAllBytes(temp.Combine(FashionMnist.TestImagesFile), IdxBytes.Gzip(IdxBytes.Images(20, 2, 2, IdxBytes.ImageId)));
        File.WriteAllBytes(temp.Combine(FashionMnist.TestLabelsFile), IdxBytes.Gzip(IdxBytes.Labels(testLabels)));

        var split = await DatasetCatalog.LoadAsync(new DatasetRequest(DatasetKind.FashionMnistLt, temp.Path, ImbalanceFactor: 4));

        Assert.Equal("fashion-mnist-lt-if4", split.Name);
        Assert.Equal(LongTailed.Counts(4, 10, 4, ImbalanceProfile.Exp), split.Train.ClassCounts());
        Assert.Equal([4, 3, 2, 2, 2, 1, 1, 1, 1, 1], split.Train.ClassCounts());
        Assert.Equal(Enumerable.Repeat(2, 10), split.Test.ClassCounts());
        Assert.Equal(FashionMnist.ClassNames, split.Train.ClassNames);
    }

    [Fact]
    public async Task Cifar10LtStepWithSeededRandomHasADescriptiveName()
    {
        string dir = temp.Combine("cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        var record = new byte[3073];
        for (int b = 1; b <= 5; b++)
        {
            // Each batch holds two images of every class.
            var batch = new List<byte>();
            for (int k = 0; k < 20; k++) { record[0] = (byte)(k % 10); batch.AddRange(record); }
            File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b}.bin"), batch.ToArray());
        }
        record[0] = 4;
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), record);

        var request = new DatasetRequest(DatasetKind.Cifar10Lt, temp.Path, ImbalanceFactor: 5,
            Profile: ImbalanceProfile.Step, Selection: LongTailSelection.SeededRandom, Seed: 3);
        var split = await DatasetCatalog.LoadAsync(request);

        Assert.Equal("cifar10-lt-step-if5-random-seed3", split.Name);
        Assert.Equal([10, 10, 10, 10, 10, 2, 2, 2, 2, 2], split.Train.ClassCounts());
        Assert.Equal(1, split.Test.Count);
    }

    [Fact]
    public async Task ImageFolderPassesSizeAndChannels()
    {
        foreach (string split in new[] { "train", "test" })
        {
            foreach (string name in new[] { "a", "b" })
            {
                Directory.CreateDirectory(temp.Combine(split, name));
                using var bitmap = new SkiaSharp.SKBitmap(5, 3);
                bitmap.Erase(SkiaSharp.SKColors.White);
                using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(temp.Combine(split, name, "1.png"), png.ToArray());
            }
        }

        var loaded = await DatasetCatalog.LoadAsync(new DatasetRequest(DatasetKind.ImageFolder, temp.Path, ImageSize: 4, Channels: 1));

        Assert.Equal("imagefolder", loaded.Name);
        Assert.Equal((1, 4, 4), (loaded.Train.Channels, loaded.Train.Height, loaded.Train.Width));
        Assert.All(loaded.Train.Pixels, v => Assert.Equal(255, v));
    }

    [Fact]
    public async Task KindsThatNeedAFolderSayWhen()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => DatasetCatalog.LoadAsync(new DatasetRequest(DatasetKind.Cifar100, DataDir: null)));

        Assert.StartsWith("cifar100 needs a data folder", error.Message);
    }

    [Fact]
    public async Task ImageSizeIsRejectedOutsideImageFolder()
    {
        await Assert.ThrowsAsync<ArgumentException>(
            () => DatasetCatalog.LoadAsync(new DatasetRequest(DatasetKind.Idx, temp.Path, ImageSize: 32)));
    }

    [Fact]
    public async Task RealFashionMnistLtIf100FromTheDebianPackage()
    {
        if (!Directory.Exists(FashionMnist.DebianPackageDirectory))
            return; // dataset-fashion-mnist is not installed here

        var watch = Stopwatch.StartNew();
        var split = await DatasetCatalog.LoadAsync(new DatasetRequest(DatasetKind.FashionMnistLt, DataDir: null));
        watch.Stop();

        Assert.Equal("fashion-mnist-lt-if100", split.Name);
        Assert.Equal([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60], split.Train.ClassCounts());
        Assert.Equal((1, 28, 28), (split.Train.Channels, split.Train.Height, split.Train.Width));
        Assert.Equal(10_000, split.Test.Count);
        Assert.Equal(Enumerable.Repeat(1000, 10), split.Test.ClassCounts());
        Assert.Equal("Ankle boot", split.Test.ClassNames[9]);
        // Generous bound for a shared 2-core machine; the read itself takes a fraction of a second.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"loading took {watch.Elapsed}");
    }
}
