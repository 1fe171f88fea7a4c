using FeatureAug.Core.Data;

namespace FeatureAug.Core.Tests.Data;

public class CifarReaderTests : IDisposable
{
    private const int PixelBytes = 3072;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>One record: the label bytes, then 3072 pixels whose values encode (id, position).</summary>
    private static byte[] Record(byte[] labelBytes, int id)
    {
        var record = new byte[labelBytes.Length + PixelBytes];
        labelBytes.CopyTo(record, 0);
        for (int p = 0; p < PixelBytes; p++) record[labelBytes.Length + p] = (byte)(id * 31 + p);
        return record;
    }

    private static byte[] Batch(params byte[][] records) => records.SelectMany(r => r).ToArray();

    /// <summary>cifar-10-batches-bin with one record per data batch (labels 0..4, ids 0..4) and two test records.</summary>
    private string WriteCifar10(string? namesFile = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")
    {
        string dir = temp.Combine("cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        for (int b = 1; b <= 5; b++)
            File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b}.bin"), Batch(Record([(byte)(b - 1)], b - 1)));
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Batch(Record([9], 100), Record([3], 101)));
        if (namesFile is not null) File.WriteAllText(Path.Combine(dir, "batches.meta.txt"), namesFile);
        return dir;
    }

    private string WriteCifar100(bool withNames)
    {
        string dir = temp.Combine("cifar-100-binary");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "train.bin"), Batch(Record([4, 30], 0), Record([19, 99], 1), Record([0, 0], 2)));
        File.WriteAllBytes(Path.Combine(dir, "test.bin"), Batch(Record([1, 55], 3)));
        if (withNames)
            File.WriteAllLines(Path.Combine(dir, "fine_label_names.txt"), Enumerable.Range(0, 100).Select(i => $"fine{i}"));
        return dir;
    }

    [Fact]
    public void ReadsCifar10BatchesInOrderFromTheExtractedFolderOrItsParent()
    {
        string extracted = WriteCifar10();

        foreach (string dir in new[] { extracted, temp.Path })
        {
            var split = CifarReader.Read(dir, CifarVariant.Cifar10);

            Assert.Equal("cifar10", split.Name);
            Assert.Equal((3, 32, 32), (split.Train.Channels, split.Train.Height, split.Train.Width));
            Assert.Equal([0, 1, 2, 3, 4], split.Train.Labels);
            Assert.Equal([9, 3], split.Test.Labels);
            Assert.Equal("truck", split.Train.ClassNames[9]);
            Assert.Equal(10, split.Train.NumClasses);
            // Record pixels are copied verbatim: image k of the training set is the record with id k.
            for (int k = 0; k < 5; k++)
                Assert.Equal(Record([0], k)[1..], split.Train.Pixels.AsSpan(k * PixelBytes, PixelBytes).ToArray());
            Assert.Equal(Record([0], 101)[1..], split.Test.Pixels.AsSpan(PixelBytes, PixelBytes).ToArray());
        }
    }

    [Fact]
    public void Cifar10WithoutNamesFileNamesClassesByNumber()
    {
        string dir = WriteCifar10(namesFile: null);

        var split = CifarReader.Read(dir, CifarVariant.Cifar10);

        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), split.Train.ClassNames);
    }

    [Fact]
    public void ReadsCifar100FineLabels()
    {
        WriteCifar100(withNames: true);

        var split = CifarReader.Read(temp.Path, CifarVariant.Cifar100);

        Assert.Equal("cifar100", split.Name);
        Assert.Equal([30, 99, 0], split.Train.Labels);
        Assert.Equal([55], split.Test.Labels);
        Assert.Equal("fine99", split.Train.ClassNames[99]);
        Assert.Equal(Record([0, 0], 1)[2..], split.Train.Pixels.AsSpan(PixelBytes, PixelBytes).ToArray());
    }

    [Fact]
    public void Cifar100WithoutNamesFileNamesClassesByNumber()
    {
        string dir = WriteCifar100(withNames: false);

        var split = CifarReader.Read(dir, CifarVariant.Cifar100);

        Assert.Equal(100, split.Train.NumClasses);
        Assert.Equal("42", split.Train.ClassNames[42]);
    }

    [Fact]
    public void TruncatedBatchIsReported()
    {
        string dir = WriteCifar10();
        string batch = Path.Combine(dir, "data_batch_2.bin");
        File.WriteAllBytes(batch, Batch(Record([1], 0), Record([2], 1))[..^100]);

        var error = Assert.Throws<DatasetFormatException>(() => CifarReader.Read(dir, CifarVariant.Cifar10));

        Assert.Equal(batch, error.FilePath);
        Assert.Equal("truncated or not a CIFAR-10 batch: 6046 bytes is not a whole number of 3073-byte records", error.Problem);
    }

    [Fact]
    public void MissingBatchIsReported()
    {
        string dir = WriteCifar10();
        string batch = Path.Combine(dir, "data_batch_3.bin");
        File.Delete(batch);

        var error = Assert.Throws<DatasetFormatException>(() => CifarReader.Read(temp.Path, CifarVariant.Cifar10));

        Assert.Equal(batch, error.FilePath);
        Assert.StartsWith("missing CIFAR-10 batch", error.Problem);
    }

    [Fact]
    public void FolderWithoutBatchesIsReported()
    {
        var error = Assert.Throws<DatasetFormatException>(() => CifarReader.Read(temp.Path, CifarVariant.Cifar100));

        Assert.Equal(temp.Path, error.FilePath);
        Assert.Contains("no CIFAR-100 binary batches", error.Problem);
    }

    [Fact]
    public void Cifar10LabelOutOfRangeIsReported()
    {
        string dir = WriteCifar10();
        string test = Path.Combine(dir, "test_batch.bin");
        File.WriteAllBytes(test, Batch(Record([2], 0), Record([10], 1)));

        var error = Assert.Throws<DatasetFormatException>(() => CifarReader.Read(dir, CifarVariant.Cifar10));

        Assert.Equal(test, error.FilePath);
        Assert.Equal("label 10 of record 1 is out of range 0..9", error.Problem);
    }

    [Theory]
    [InlineData(3, 100, "label 100 of record 0 is out of range 0..99")]
    [InlineData(20, 5, "coarse label 20 of record 0 is out of range 0..19")]
    public void Cifar100LabelOutOfRangeIsReported(byte coarse, byte fine, string problem)
    {
        string dir = WriteCifar100(withNames: true);
        string train = Path.Combine(dir, "train.bin");
        File.WriteAllBytes(train, Record([coarse, fine], 0));

        var error = Assert.Throws<DatasetFormatException>(() => CifarReader.Read(dir, CifarVariant.Cifar100));

        Assert.Equal(train, error.FilePath);
        Assert.Equal(problem, error.Problem);
    }

    [Fact]
    public void NamesFileWithWrongCountIsReported()
    {
        string dir = WriteCifar10(namesFile: "cat\ndog\n");

        var error = Assert.Throws<DatasetFormatException>(() => CifarReader.Read(dir, CifarVariant.Cifar10));

        Assert.Equal(Path.Combine(dir, "batches.meta.txt"), error.FilePath);
        Assert.Equal("lists 2 class names but CIFAR-10 has 10", error.Problem);
    }
}
