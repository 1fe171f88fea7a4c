using FeatureAug.Core.Data;

namespace FeatureAug.Core.Tests.Data;

public class IdxReaderTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private string Write(string name, byte[] bytes)
    {
        string path = temp.Combine(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void ReadsRawImagesAndLabelsInFileOrder()
    {
        string images = Write("images", IdxBytes.Images(3, 2, 3, (i, p) => (byte)(10 * i + p)));
        string labels = Write("labels", IdxBytes.Labels([2, 0, 1]));

        var dataset = IdxReader.Read(images, labels);

        Assert.Equal(3, dataset.Count);
        Assert.Equal((1, 2, 3), (dataset.Channels, dataset.Height, dataset.Width));
        Assert.Equal([2, 0, 1], dataset.Labels);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25 }, dataset.Pixels);
        Assert.Equal(["0", "1", "2"], dataset.ClassNames); // 0 up to the largest label present
    }

    [Fact]
    public void DetectsGzipByContentNotByFileName()
    {
        var imageBytes = IdxBytes.Images(2, 2, 2, IdxBytes.ImageId);
        var labelBytes = IdxBytes.Labels([1, 1]);
        string gzipWithoutSuffix = Write("images-idx3-ubyte", IdxBytes.Gzip(imageBytes));
        string rawWithGzSuffix = Write("labels-idx1-ubyte.gz", labelBytes);

        var dataset = IdxReader.Read(gzipWithoutSuffix, rawWithGzSuffix);

        Assert.Equal(imageBytes[16..], dataset.Pixels);
        Assert.Equal([1, 1], dataset.Labels);
    }

    [Fact]
    public void UsesGivenClassNamesAndWidensDefaultNamesToTheLargestLabel()
    {
        string images = Write("images", IdxBytes.Images(2, 1, 1, IdxBytes.ImageId));
        string labels = Write("labels", IdxBytes.Labels([0, 12]));

        Assert.Equal(13, IdxReader.Read(images, labels).NumClasses);
        var names = Enumerable.Range(0, 20).Select(i => $"class {i}").ToArray();
        Assert.Equal(names, IdxReader.Read(images, labels, names).ClassNames);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string labels = Write("labels", IdxBytes.Labels([0]));
        string missing = temp.Combine("no-such-images");

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(missing, labels));

        Assert.Equal(missing, error.FilePath);
        Assert.Equal("file not found", error.Problem);
        Assert.Equal($"{missing}: file not found", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedImageFileIsReported(bool gzip)
    {
        var full = IdxBytes.Images(3, 4, 4, IdxBytes.ImageId);
        var cut = full[..^5];
        string images = Write("images", gzip ? IdxBytes.Gzip(cut) : cut);
        string labels = Write("labels", IdxBytes.Labels([0, 1, 2]));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(images, labels));

        Assert.Equal(images, error.FilePath);
        Assert.Contains("truncated", error.Problem);
        Assert.Contains("3 images of 4x4 (48 bytes) but only 43 bytes follow", error.Problem);
    }

    [Fact]
    public void GzipFileCutShortIsReportedAsTruncated()
    {
        var gzip = IdxBytes.Gzip(IdxBytes.Images(50, 8, 8, (i, p) => (byte)((i * 131 + p * 71) % 251)));
        string images = Write("images.gz", gzip[..(gzip.Length / 2)]);
        string labels = Write("labels", IdxBytes.Labels(new byte[50]));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(images, labels));

        Assert.Equal(images, error.FilePath);
        Assert.StartsWith("truncated: the header promises 50 images of 8x8 (3200 bytes) but only", error.Problem);
    }

    [Fact]
    public void TruncatedHeaderIsReported()
    {
        string images = Write("images", IdxBytes.Images(1, 2, 2, IdxBytes.ImageId)[..10]);
        string labels = Write("labels", IdxBytes.Labels([0]));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(images, labels));

        Assert.Equal(images, error.FilePath);
        Assert.Contains("truncated", error.Problem);
    }

    [Fact]
    public void TruncatedLabelFileIsReported()
    {
        string images = Write("images", IdxBytes.Images(3, 2, 2, IdxBytes.ImageId));
        string labels = Write("labels", IdxBytes.Labels([0, 1, 2])[..^1]);

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(images, labels));

        Assert.Equal(labels, error.FilePath);
        Assert.Contains("truncated: the header promises 3 labels", error.Problem);
    }

    [Fact]
    public void BytesBeyondTheDeclaredImagesAreReported()
    {
        string images = Write("images", [.. IdxBytes.Images(1, 2, 2, IdxBytes.ImageId), 0]);
        string labels = Write("labels", IdxBytes.Labels([0]));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(images, labels));

        Assert.Equal(images, error.FilePath);
        Assert.Contains("extra bytes", error.Problem);
    }

    [Fact]
    public void WrongMagicNumberIsReported()
    {
        string labels = Write("labels", IdxBytes.Labels([0]));

        // A label file given where the image file belongs.
        var swapped = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(labels, labels));
        Assert.Equal(labels, swapped.FilePath);
        Assert.Equal("wrong magic number 0x00000801 (an IDX label file); an IDX image file starts with 0x00000803", swapped.Problem);

        string floats = Write("floats", IdxBytes.Images(1, 1, 1, IdxBytes.ImageId, magic: 0x00000D03));
        var other = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(floats, labels));
        Assert.Contains("wrong magic number 0x00000d03", other.Problem);
    }

    [Fact]
    public void ImageAndLabelCountMismatchIsReported()
    {
        string images = Write("images", IdxBytes.Images(3, 2, 2, IdxBytes.ImageId));
        string labels = Write("labels", IdxBytes.Labels([0, 1]));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(images, labels));

        Assert.Equal(labels, error.FilePath);
        Assert.Equal($"holds 2 labels but {images} holds 3 images", error.Problem);
    }

    [Fact]
    public void LabelOutOfRangeOfTheGivenClassesIsReported()
    {
        string images = Write("images", IdxBytes.Images(3, 2, 2, IdxBytes.ImageId));
        string labels = Write("labels", IdxBytes.Labels([0, 3, 1]));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(images, labels, ["a", "b", "c"]));

        Assert.Equal(labels, error.FilePath);
        Assert.Equal("label 3 of item 1 is out of range: there are 3 classes (0..2)", error.Problem);
    }

    [Fact]
    public void CorruptGzipIsReported()
    {
        // A valid gzip header, then a deflate block of the reserved type 11, which no decoder accepts.
        var gzip = IdxBytes.Gzip(IdxBytes.Images(4, 8, 8, IdxBytes.ImageId));
        gzip.AsSpan(10).Fill(0xff);
        string images = Write("images.gz", gzip);
        string labels = Write("labels", IdxBytes.Labels([0, 0, 0, 0]));

        var error = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(images, labels));

        Assert.Equal(images, error.FilePath);
        Assert.StartsWith("corrupt gzip data", error.Problem);
        Assert.IsType<InvalidDataException>(error.InnerException);
    }
}
