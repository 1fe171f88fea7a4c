using System.Globalization;

namespace FeatureAug.Core.Data;

/// <summary>Which CIFAR binary distribution to read.</summary>
public enum CifarVariant
{
    /// <summary>cifar-10-batches-bin: data_batch_1..5.bin, test_batch.bin; records of 1 label byte + 3072 pixels.</summary>
    Cifar10,

    /// <summary>cifar-100-binary: train.bin, test.bin; records of coarse + fine label bytes + 3072 pixels (fine labels are used).</summary>
    Cifar100,
}

/// <summary>
/// Reads the binary versions of CIFAR-10 and CIFAR-100. Each record's 3072 pixel bytes are the red,
/// green and blue 32x32 planes in row-major order, which is already the C x H x W layout of <see cref="ImageDataset"/>.
/// </summary>
public static class CifarReader
{
    private const int Side = 32;
    private const int Channels = 3;
    private const int PixelBytes = Channels * Side * Side;

    private sealed record Layout(
        string Title, string FolderName, string[] TrainFiles, string[] TestFiles,
        int LabelBytes, int Classes, string NamesFile);

    private static readonly Layout Cifar10Layout = new(
        "CIFAR-10", "cifar-10-batches-bin",
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
        ["test_batch.bin"], LabelBytes: 1, Classes: 10, NamesFile: "batches.meta.txt");

    private static readonly Layout Cifar100Layout = new(
        "CIFAR-100", "cifar-100-binary", ["train.bin"], ["test.bin"],
        LabelBytes: 2, Classes: 100, NamesFile: "fine_label_names.txt");

    /// <summary>
    /// Reads the training and test batches. <paramref name="dir"/> is either the extracted folder
    /// (cifar-10-batches-bin or cifar-100-binary) or the folder that contains it. Class names come
    /// from batches.meta.txt / fine_label_names.txt, or are "0".."C-1" when that file is absent.
    /// </summary>
    /// <exception cref="DatasetFormatException">A batch is missing or truncated, a label is out of
    /// range, or the names file lists the wrong number of classes.</exception>
    public static DatasetSplit Read(string dir, CifarVariant variant)
    {
        var layout = variant == CifarVariant.Cifar10 ? Cifar10Layout : Cifar100Layout;
        string root = ResolveRoot(dir, layout);
        var classNames = ReadClassNames(root, layout);
        var train = ReadBatches(root, layout.TrainFiles, layout, classNames);
        var test = ReadBatches(root, layout.TestFiles, layout, classNames);
        return new DatasetSplit(variant == CifarVariant.Cifar10 ? "cifar10" : "cifar100", train, test);
    }

    private static string ResolveRoot(string dir, Layout layout)
    {
        if (!Directory.Exists(dir))
            throw new DatasetFormatException(dir, "folder not found");
        var allFiles = layout.TrainFiles.Concat(layout.TestFiles).ToArray();
        if (allFiles.Any(file => File.Exists(Path.Combine(dir, file))))
            return dir;
        string nested = Path.Combine(dir, layout.FolderName);
        if (Directory.Exists(nested))
            return nested;
        throw new DatasetFormatException(dir,
            $"no {layout.Title} binary batches: expected {string.Join(", ", allFiles)} here or in a {layout.FolderName} subfolder");
    }

    private static IReadOnlyList<string> ReadClassNames(string root, Layout layout)
    {
        string path = Path.Combine(root, layout.NamesFile);
        if (!File.Exists(path))
            return Enumerable.Range(0, layout.Classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        // The official files pad the name list with blank lines.
        var names = File.ReadAllLines(path).Select(line => line.Trim()).Where(line => line.Length > 0).ToArray();
        if (names.Length != layout.Classes)
            throw new DatasetFormatException(path, $"lists {names.Length} class names but {layout.Title} has {layout.Classes}");
        return names;
    }

    private static ImageDataset ReadBatches(string root, string[] files, Layout layout, IReadOnlyList<string> classNames)
    {
        int recordBytes = layout.LabelBytes + PixelBytes;
        var paths = files.Select(file => Path.Combine(root, file)).ToArray();
        long totalRecords = 0;
        foreach (string path in paths)
        {
            if (!File.Exists(path))
                throw new DatasetFormatException(path,
                    $"missing {layout.Title} batch (expected {string.Join(", ", layout.TrainFiles.Concat(layout.TestFiles))})");
            long length = new FileInfo(path).Length;
            if (length == 0 || length % recordBytes != 0)
                throw new DatasetFormatException(path,
                    $"truncated or not a {layout.Title} batch: {length} bytes is not a whole number of {recordBytes}-byte records");
            totalRecords += length / recordBytes;
        }
        if (totalRecords * PixelBytes > Array.MaxLength)
            throw new DatasetFormatException(root, $"{totalRecords} images are too many to hold in memory");

        var pixels = new byte[totalRecords * PixelBytes];
        var labels = new int[totalRecords];
        int image = 0;
        foreach (string path in paths)
        {
            byte[] batch = ReadAllBytes(path);
            for (int record = 0, offset = 0; offset < batch.Length; record++, offset += recordBytes)
            {
                labels[image] = ReadLabel(batch, offset, record, path, layout);
                Buffer.BlockCopy(batch, offset + layout.LabelBytes, pixels, image * PixelBytes, PixelBytes);
                image++;
            }
        }
        return new ImageDataset(pixels, labels, Channels, Side, Side, classNames);
    }

    private static int ReadLabel(byte[] batch, int offset, int record, string path, Layout layout)
    {
        if (layout.LabelBytes == 2)
        {
            int coarse = batch[offset];
            if (coarse >= 20)
                throw new DatasetFormatException(path, $"coarse label {coarse} of record {record} is out of range 0..19");
        }
        int label = batch[offset + layout.LabelBytes - 1];
        if (label >= layout.Classes)
            throw new DatasetFormatException(path, $"label {label} of record {record} is out of range 0..{layout.Classes - 1}");
        return label;
    }

    private static byte[] ReadAllBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (IOException ex)
        {
            throw new DatasetFormatException(path, $"cannot be read ({ex.Message})", ex);
        }
    }
}
