using SkiaSharp;

namespace FeatureAug.Core.Data;

/// <summary>How <see cref="ImageFolderReader"/> shapes the decoded images.</summary>
/// <param name="Size">Resize every image to Size x Size (aspect ratio not kept, as torchvision's
/// Resize((s, s))). Without it all images must already share one size.</param>
/// <param name="Channels">1 for grayscale (PIL "L" luma weights), 3 for RGB; alpha is dropped.</param>
public sealed record ImageFolderOptions(int? Size = null, int Channels = 3);

/// <summary>
/// Reads <c>DIR/train/&lt;class&gt;/*</c> and <c>DIR/test/&lt;class&gt;/*</c> (torchvision ImageFolder layout), and
/// <c>DIR/val/&lt;class&gt;/*</c> as the validation split when that folder exists.
/// Class indices follow the ordinal order of the folder names; images within a class are read in
/// ordinal file-name order. Names starting with '.' (e.g. .DS_Store, .ipynb_checkpoints) are skipped.
/// Every other file must be an image SkiaSharp can decode (PNG, JPEG, BMP, ...).
/// </summary>
public static class ImageFolderReader
{
    /// <exception cref="DatasetFormatException">train/ or test/ is missing, a class folder is empty,
    /// a file is not a readable image, image sizes differ without <see cref="ImageFolderOptions.Size"/>,
    /// or test classes differ from train classes.</exception>
    public static DatasetSplit Read(string dir, ImageFolderOptions? options = null)
    {
        options ??= new ImageFolderOptions();
        if (options.Channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(options), options.Channels, "Channels must be 1 (grayscale) or 3 (RGB).");
        if (options.Size is <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.Size, "Size must be positive.");
        if (!Directory.Exists(dir))
            throw new DatasetFormatException(dir, "folder not found");

        string trainDir = Path.Combine(dir, "train"), testDir = Path.Combine(dir, "test");
        var trainClasses = ListClasses(trainDir);
        var testClasses = ListClasses(testDir);
        if (!trainClasses.SequenceEqual(testClasses))
        {
            var missing = trainClasses.Except(testClasses).ToArray();
            var extra = testClasses.Except(trainClasses).ToArray();
            throw new DatasetFormatException(testDir,
                $"test classes differ from train classes (missing in test: [{string.Join(", ", missing)}]; not in train: [{string.Join(", ", extra)}])");
        }

        var train = ReadImages(trainDir, trainClasses, options, requiredShape: null);
        var test = ReadImages(testDir, trainClasses, options, requiredShape: (train.Height, train.Width));
        // An optional val/ folder is the validation split; a class may be absent there (it then has no validation image).
        string valDir = Path.Combine(dir, "val");
        ImageDataset? validation = null;
        if (Directory.Exists(valDir))
        {
            var valClasses = ListClasses(valDir);
            var unknown = valClasses.Except(trainClasses).ToArray();
            if (unknown.Length > 0)
                throw new DatasetFormatException(valDir, $"val classes not in train: [{string.Join(", ", unknown)}]");
            validation = ReadImages(valDir, trainClasses, options, requiredShape: (train.Height, train.Width), missingClassesAllowed: true);
        }
        return new DatasetSplit("imagefolder", train, test, validation);
    }

    private static string[] ListClasses(string splitDir)
    {
        if (!Directory.Exists(splitDir))
            throw new DatasetFormatException(splitDir, "missing folder: an image folder data set needs train/<class>/ and test/<class>/");
        var classes = Directory.GetDirectories(splitDir)
            .Select(path => Path.GetFileName(path))
            .Where(name => !name.StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (classes.Length == 0)
            throw new DatasetFormatException(splitDir, "no class folders");
        return classes;
    }

    private static ImageDataset ReadImages(
        string splitDir, string[] classes, ImageFolderOptions options, (int Height, int Width)? requiredShape, bool missingClassesAllowed = false)
    {
        var files = new List<(string Path, int Label)>();
        for (int label = 0; label < classes.Length; label++)
        {
            string classDir = Path.Combine(splitDir, classes[label]);
            if (missingClassesAllowed && !Directory.Exists(classDir)) continue;
            var classFiles = Directory.GetFiles(classDir)
                .Where(path => !Path.GetFileName(path).StartsWith('.'))
                .Order(StringComparer.Ordinal)
                .ToArray();
            if (classFiles.Length == 0)
                throw new DatasetFormatException(classDir, "empty class folder: it holds no images");
            files.AddRange(classFiles.Select(path => (path, label)));
        }

        int channels = options.Channels;
        byte[]? pixels = null;
        int height = 0, width = 0;
        string? firstFile = null;
        for (int i = 0; i < files.Count; i++)
        {
            var (path, _) = files[i];
            using var bitmap = DecodeRgba(path, options.Size);
            if (pixels is null)
            {
                (height, width) = (bitmap.Height, bitmap.Width);
                if (requiredShape is { } shape && (shape.Height, shape.Width) != (height, width))
                    throw MismatchedSize(path, bitmap, $"the training images are {shape.Width}x{shape.Height}");
                long total = (long)files.Count * channels * height * width;
                if (total > Array.MaxLength)
                    throw new DatasetFormatException(splitDir, $"{files.Count} images of {width}x{height} are too large to hold in memory; set a smaller Size");
                pixels = new byte[total];
                firstFile = path;
            }
            else if (bitmap.Height != height || bitmap.Width != width)
            {
                throw MismatchedSize(path, bitmap, $"{firstFile} is {width}x{height}");
            }
            WritePlanar(bitmap, pixels, (long)i * channels * height * width, channels);
        }

        var labels = files.Select(file => file.Label).ToArray();
        return new ImageDataset(pixels!, labels, channels, height, width, classes);
    }

    private static DatasetFormatException MismatchedSize(string path, SKBitmap bitmap, string reference) =>
        new(path, $"image is {bitmap.Width}x{bitmap.Height} but {reference}; set a Size to resize all images");

    /// <summary>Decodes to unpremultiplied RGBA (so dropping alpha keeps the stored colours, as PIL's convert("RGB")), resized when asked.</summary>
    private static SKBitmap DecodeRgba(string path, int? size)
    {
        using var codec = SKCodec.Create(path, out var createResult);
        if (codec is null)
            throw new DatasetFormatException(path, $"not a readable image ({createResult}); expected PNG, JPEG or BMP");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            string problem = result == SKCodecResult.IncompleteInput ? "truncated image data" : $"image cannot be decoded ({result})";
            throw new DatasetFormatException(path, problem);
        }
        if (size is not int side || (bitmap.Width == side && bitmap.Height == side))
            return bitmap;

        using (bitmap)
        {
            // Linear filtering over mipmaps averages the source pixels when shrinking (an antialiased
            // resize, as torchvision's default), and interpolates when enlarging.
            var resized = bitmap.Resize(info.WithSize(side, side), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
            return resized ?? throw new DatasetFormatException(path, $"cannot be resized to {side}x{side}");
        }
    }

    /// <summary>Copies interleaved RGBA into planar C x H x W; grayscale uses PIL's integer ITU-R 601-2 luma.</summary>
    private static void WritePlanar(SKBitmap bitmap, byte[] pixels, long offset, int channels)
    {
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        int height = bitmap.Height, width = bitmap.Width, rowBytes = bitmap.RowBytes, plane = height * width;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int source = y * rowBytes + x * 4;
                long target = offset + y * width + x;
                byte r = rgba[source], g = rgba[source + 1], b = rgba[source + 2];
                if (channels == 1)
                {
                    pixels[target] = (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
                }
                else
                {
                    pixels[target] = r;
                    pixels[target + plane] = g;
                    pixels[target + 2 * plane] = b;
                }
            }
        }
    }
}
