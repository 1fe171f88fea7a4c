using System.Buffers.Binary;
using System.IO.Compression;

namespace FeatureAug.Core.Data;

/// <summary>
/// Reads MNIST-format IDX files (unsigned-byte images and labels), raw or gzip-compressed.
/// Compression is recognised by the gzip magic bytes, not by the file name.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of an unsigned-byte, three-dimensional (N x rows x columns) image file.</summary>
    public const int ImageFileMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte, one-dimensional label file.</summary>
    public const int LabelFileMagic = 0x00000801;

    /// <summary>
    /// Reads an image file and its label file into a one-channel dataset.
    /// </summary>
    /// <param name="classNames">
    /// Names by label; labels outside them are an error. Without them the classes are "0" up to the
    /// largest label present, so a data set of 5 classes has 5, not MNIST's 10.
    /// </param>
    /// <exception cref="DatasetFormatException">A file is missing, truncated, corrupt, of the wrong
    /// kind, the counts disagree, or a label has no class.</exception>
    public static ImageDataset Read(string imagesPath, string labelsPath, IReadOnlyList<string>? classNames = null)
    {
        var images = ReadImages(imagesPath);
        byte[] labelBytes = ReadLabels(labelsPath);
        if (labelBytes.Length != images.Count)
        {
            throw new DatasetFormatException(labelsPath,
                $"holds {labelBytes.Length} labels but {imagesPath} holds {images.Count} images");
        }

        var labels = new int[labelBytes.Length];
        int largestLabel = -1;
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = labelBytes[i];
            largestLabel = Math.Max(largestLabel, labels[i]);
        }

        if (classNames is not null)
        {
            for (int i = 0; i < labels.Length; i++)
            {
                if (labels[i] >= classNames.Count)
                {
                    throw new DatasetFormatException(labelsPath,
                        $"label {labels[i]} of item {i} is out of range: there are {classNames.Count} classes (0..{classNames.Count - 1})");
                }
            }
        }
        else
        {
            classNames = Enumerable.Range(0, largestLabel + 1)
                .Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }

        return new ImageDataset(images.Pixels, labels, 1, images.Rows, images.Columns, classNames);
    }

    private sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Columns);

    private static IdxImages ReadImages(string path)
    {
        return WithDataStream(path, stream =>
        {
            var header = ReadHeader(stream, 16, path, ImageFileMagic);
            int count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            int rows = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
            int columns = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12));
            if (count < 0 || rows <= 0 || columns <= 0)
                throw new DatasetFormatException(path, $"invalid image header: {count} images of {rows}x{columns}");
            long size = (long)count * rows * columns;
            if (size > Array.MaxLength)
                throw new DatasetFormatException(path, $"{count} images of {rows}x{columns} are too large to hold in memory");

            var pixels = new byte[size];
            ReadBody(stream, pixels, path, $"{count} images of {rows}x{columns}");
            return new IdxImages(pixels, count, rows, columns);
        });
    }

    private static byte[] ReadLabels(string path)
    {
        return WithDataStream(path, stream =>
        {
            var header = ReadHeader(stream, 8, path, LabelFileMagic);
            int count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            if (count < 0)
                throw new DatasetFormatException(path, $"invalid label header: count {count}");
            var labels = new byte[count];
            ReadBody(stream, labels, path, $"{count} labels");
            return labels;
        });
    }

    /// <summary>Opens the file, unwrapping gzip when the content starts with the gzip magic bytes.</summary>
    private static T WithDataStream<T>(string path, Func<Stream, T> read)
    {
        if (!File.Exists(path))
            throw new DatasetFormatException(path, "file not found");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            int first = file.ReadByte(), second = file.ReadByte();
            file.Position = 0;
            if (first == 0x1f && second == 0x8b)
            {
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                return read(gzip);
            }
            return read(file);
        }
        catch (InvalidDataException ex)
        {
            throw new DatasetFormatException(path, $"corrupt gzip data ({ex.Message})", ex);
        }
        catch (IOException ex)
        {
            throw new DatasetFormatException(path, $"cannot be read ({ex.Message})", ex);
        }
    }

    /// <summary>Reads the header, checking the magic number before the rest so a wrong file type is named as such.</summary>
    private static byte[] ReadHeader(Stream stream, int length, string path, int expectedMagic)
    {
        var header = new byte[length];
        int read = stream.ReadAtLeast(header.AsSpan(0, 4), 4, throwOnEndOfStream: false);
        if (read == 4)
        {
            CheckMagic(header, path, expectedMagic);
            read += stream.ReadAtLeast(header.AsSpan(4), length - 4, throwOnEndOfStream: false);
        }
        if (read < length)
        {
            string kind = expectedMagic == ImageFileMagic ? "image" : "label";
            throw new DatasetFormatException(path, $"truncated: an IDX {kind} file header needs {length} bytes but the file has {read}");
        }
        return header;
    }

    private static void CheckMagic(byte[] header, string path, int expected)
    {
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic == expected) return;
        string found = magic switch
        {
            ImageFileMagic => " (an IDX image file)",
            LabelFileMagic => " (an IDX label file)",
            _ => "",
        };
        string wanted = expected == ImageFileMagic ? "an IDX image file" : "an IDX label file";
        throw new DatasetFormatException(path, $"wrong magic number 0x{magic:x8}{found}; {wanted} starts with 0x{expected:x8}");
    }

    private static void ReadBody(Stream stream, byte[] body, string path, string promised)
    {
        int read = stream.ReadAtLeast(body, body.Length, throwOnEndOfStream: false);
        if (read < body.Length)
            throw new DatasetFormatException(path, $"truncated: the header promises {promised} ({body.Length} bytes) but only {read} bytes follow");
        if (stream.ReadByte() != -1)
            throw new DatasetFormatException(path, $"has extra bytes after the {promised} its header declares");
    }
}
