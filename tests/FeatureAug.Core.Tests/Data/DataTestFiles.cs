using System.Buffers.Binary;
using System.IO.Compression;

namespace FeatureAug.Core.Tests.Data;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("featureaug-data-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* best effort: a leftover temp folder must not fail a test */ }
    }
}

/// <summary>Builds small IDX files in memory, byte by byte, as the format describes.</summary>
internal static class IdxBytes
{
    public static byte[] Images(int count, int rows, int columns, Func<int, int, byte> pixel, int magic = 0x00000803)
    {
        var bytes = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        int size = rows * columns;
        for (int i = 0; i < count; i++)
            for (int p = 0; p < size; p++)
                bytes[16 + i * size + p] = pixel(i, p);
        return bytes;
    }

    public static byte[] Labels(IReadOnlyList<byte> labels, int magic = 0x00000801)
    {
        var bytes = new byte[8 + labels.Count];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Count);
        for (int i = 0; i < labels.Count; i++) bytes[8 + i] = labels[i];
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>Pixel value that encodes the image index, so a test can tell which images were kept.</summary>
    public static byte ImageId(int image, int pixel) => (byte)(image * 7 + pixel);
}
