using FeatureAug.Core.Data;
using SkiaSharp;

namespace FeatureAug.Core.Tests.Data;

public class ImageFolderReaderTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static SKBitmap Solid(int width, int height, SKColor color)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(color);
        return bitmap;
    }

    private string WriteImage(string split, string className, string fileName, SKBitmap bitmap,
        SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        string dir = temp.Combine(split, className);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, fileName);
        using var data = bitmap.Encode(format, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    private string WritePng(string split, string className, string fileName, int width, int height, SKColor color)
    {
        using var bitmap = Solid(width, height, color);
        return WriteImage(split, className, fileName, bitmap);
    }

    /// <summary>Two classes in train and test, 2x2 PNGs.</summary>
    private void WriteSmallSet()
    {
        foreach (string split in new[] { "train", "test" })
        {
            WritePng(split, "cat", "1.png", 2, 2, new SKColor(10, 200, 30));
            WritePng(split, "dog", "1.png", 2, 2, new SKColor(255, 0, 0));
        }
    }

    [Fact]
    public void ClassIndicesFollowOrdinalFolderOrderAndPixelsArePlanarRgb()
    {
        // Ordinal order puts upper case first: "B" < "a" < "b", as Python's sorted().
        WritePng("train", "b", "x.png", 2, 1, new SKColor(1, 2, 3));
        WritePng("train", "a", "y.png", 2, 1, new SKColor(4, 5, 6));
        WritePng("train", "a", "x.png", 2, 1, new SKColor(7, 8, 9));
        WritePng("train", "B", "z.png", 2, 1, new SKColor(10, 11, 12));
        foreach (string name in new[] { "a", "b", "B" }) WritePng("test", name, "t.png", 2, 1, new SKColor(0, 0, 0));

        var split = ImageFolderReader.Read(temp.Path);

        Assert.Equal(["B", "a", "b"], split.Train.ClassNames);
        Assert.Equal([0, 1, 1, 2], split.Train.Labels);
        Assert.Equal((3, 1, 2), (split.Train.Channels, split.Train.Height, split.Train.Width));
        // Within class "a", x.png precedes y.png; each image is R plane, G plane, B plane.
        Assert.Equal(new byte[]
        {
            10, 10, 11, 11, 12, 12,
            7, 7, 8, 8, 9, 9,
            4, 4, 5, 5, 6, 6,
            1, 1, 2, 2, 3, 3,
        }, split.Train.Pixels);
        Assert.Equal([0, 1, 2], split.Test.Labels);
    }

    [Fact]
    public void GrayscaleUsesPilLumaWeights()
    {
        WriteSmallSet();

        var split = ImageFolderReader.Read(temp.Path, new ImageFolderOptions(Channels: 1));

        // PIL convert("L"): (10*299 + 200*587 + 30*114) / 1000 = 123.81 -> 124; pure red -> 76.
        Assert.Equal(1, split.Train.Channels);
        Assert.Equal(new byte[] { 124, 124, 124, 124, 76, 76, 76, 76 }, split.Train.Pixels);
    }

    [Fact]
    public void ResizesToTheGivenSize()
    {
        WritePng("train", "a", "big.png", 6, 4, new SKColor(40, 80, 120));
        WritePng("train", "a", "small.png", 1, 1, new SKColor(200, 100, 50));
        using (var halves = new SKBitmap(new SKImageInfo(4, 4, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                    halves.SetPixel(x, y, x < 2 ? SKColors.Black : SKColors.White);
            WriteImage("train", "b", "halves.png", halves);
        }
        WritePng("test", "a", "t.png", 3, 3, new SKColor(0, 0, 0));
        WritePng("test", "b", "t.png", 2, 2, new SKColor(0, 0, 0));

        var split = ImageFolderReader.Read(temp.Path, new ImageFolderOptions(Size: 2));

        Assert.Equal((2, 2), (split.Train.Height, split.Train.Width));
        Assert.Equal(3 * 3 * 2 * 2, split.Train.Pixels.Length);
        // Solid images stay solid whether shrunk or enlarged.
        Assert.All(split.Train.Pixels.AsSpan(0, 4).ToArray(), v => Assert.Equal(40, v));
        Assert.All(split.Train.Pixels.AsSpan(8, 4).ToArray(), v => Assert.Equal(120, v));
        Assert.All(split.Train.Pixels.AsSpan(12, 4).ToArray(), v => Assert.Equal(200, v));
        // Black left half, white right half: the left column stays dark, the right column bright.
        var red = split.Train.Pixels.AsSpan(24, 4).ToArray();
        Assert.True(red[0] < 64 && red[2] < 64 && red[1] > 191 && red[3] > 191, string.Join(",", red));
        Assert.Equal((2, 2), (split.Test.Height, split.Test.Width));
    }

    [Fact]
    public void MixedSizesWithoutSizeNameTheFirstOddFile()
    {
        WritePng("train", "a", "1.png", 3, 3, SKColors.Red);
        string odd = WritePng("train", "a", "2.png", 4, 3, SKColors.Red);
        WritePng("train", "b", "3.png", 5, 5, SKColors.Red);
        WritePng("test", "a", "1.png", 3, 3, SKColors.Red);
        WritePng("test", "b", "1.png", 3, 3, SKColors.Red);

        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderReader.Read(temp.Path));

        Assert.Equal(odd, error.FilePath);
        Assert.Equal($"image is 4x3 but {temp.Combine("train", "a", "1.png")} is 3x3; set a Size to resize all images", error.Problem);
    }

    [Fact]
    public void TestImagesOfAnotherSizeThanTrainingImagesAreReported()
    {
        WritePng("train", "a", "1.png", 3, 3, SKColors.Red);
        string odd = WritePng("test", "a", "1.png", 2, 2, SKColors.Red);

        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderReader.Read(temp.Path));

        Assert.Equal(odd, error.FilePath);
        Assert.Equal("image is 2x2 but the training images are 3x3; set a Size to resize all images", error.Problem);
    }

    [Fact]
    public void DecodesJpeg()
    {
        using var bitmap = Solid(8, 8, new SKColor(30, 120, 210));
        WriteImage("train", "a", "1.jpg", bitmap, SKEncodedImageFormat.Jpeg);
        WriteImage("test", "a", "1.jpg", bitmap, SKEncodedImageFormat.Jpeg);

        var split = ImageFolderReader.Read(temp.Path);

        var plane = 64;
        int[] expected = [30, 120, 210];
        for (int c = 0; c < 3; c++)
            Assert.All(split.Train.Pixels.AsSpan(c * plane, plane).ToArray(), v => Assert.InRange(v, expected[c] - 3, expected[c] + 3));
    }

    /// <summary>A 24-bit BMP: rows bottom-up, BGR, each row padded to 4 bytes (SkiaSharp cannot encode BMP).</summary>
    private static byte[] Bmp24(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        int rowBytes = (width * 3 + 3) & ~3;
        int imageBytes = rowBytes * height;
        var bytes = new byte[54 + imageBytes];
        void Int32(int offset, int value) => BitConverter.TryWriteBytes(bytes.AsSpan(offset), value);
        bytes[0] = (byte)'B'; bytes[1] = (byte)'M';
        Int32(2, bytes.Length); Int32(10, 54); Int32(14, 40); Int32(18, width); Int32(22, height);
        bytes[26] = 1; bytes[28] = 24; Int32(34, imageBytes);
        for (int y = 0; y < height; y++)
        {
            int row = 54 + (height - 1 - y) * rowBytes;
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                bytes[row + 3 * x] = b; bytes[row + 3 * x + 1] = g; bytes[row + 3 * x + 2] = r;
            }
        }
        return bytes;
    }

    [Fact]
    public void DecodesBmp()
    {
        var bmp = Bmp24(3, 2, (x, y) => ((byte)(10 * x + y), (byte)(100 + x), (byte)(200 + y)));
        foreach (string split in new[] { "train", "test" })
        {
            Directory.CreateDirectory(temp.Combine(split, "a"));
            File.WriteAllBytes(temp.Combine(split, "a", "1.bmp"), bmp);
        }

        var dataset = ImageFolderReader.Read(temp.Path).Train;

        Assert.Equal((2, 3), (dataset.Height, dataset.Width));
        Assert.Equal(new byte[]
        {
            0, 10, 20, 1, 11, 21,
            100, 101, 102, 100, 101, 102,
            200, 200, 200, 201, 201, 201,
        }, dataset.Pixels);
    }

    [Fact]
    public void HiddenFilesAndFoldersAreSkipped()
    {
        WriteSmallSet();
        File.WriteAllText(temp.Combine("train", "cat", ".DS_Store"), "not an image");
        Directory.CreateDirectory(temp.Combine("train", ".ipynb_checkpoints"));

        var split = ImageFolderReader.Read(temp.Path);

        Assert.Equal(["cat", "dog"], split.Train.ClassNames);
        Assert.Equal(2, split.Train.Count);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("test")]
    public void MissingSplitFolderIsReported(string missing)
    {
        WriteSmallSet();
        Directory.Delete(temp.Combine(missing), recursive: true);

        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderReader.Read(temp.Path));

        Assert.Equal(temp.Combine(missing), error.FilePath);
        Assert.StartsWith("missing folder", error.Problem);
    }

    [Fact]
    public void EmptyClassFolderIsReported()
    {
        WriteSmallSet();
        Directory.CreateDirectory(temp.Combine("train", "emu"));
        Directory.CreateDirectory(temp.Combine("test", "emu"));
        WritePng("test", "emu", "1.png", 2, 2, SKColors.Blue);

        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderReader.Read(temp.Path));

        Assert.Equal(temp.Combine("train", "emu"), error.FilePath);
        Assert.Equal("empty class folder: it holds no images", error.Problem);
    }

    [Fact]
    public void NonImageFileIsNamed()
    {
        WriteSmallSet();
        string notes = temp.Combine("train", "dog", "notes.txt");
        File.WriteAllText(notes, "these are not pixels");

        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderReader.Read(temp.Path));

        Assert.Equal(notes, error.FilePath);
        Assert.StartsWith("not a readable image", error.Problem);
    }

    [Fact]
    public void TruncatedImageIsNamed()
    {
        WriteSmallSet();
        using var bitmap = Solid(16, 16, SKColors.Green);
        string path = WriteImage("train", "dog", "2.png", bitmap);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderReader.Read(temp.Path));

        Assert.Equal(path, error.FilePath);
    }

    [Fact]
    public void TestClassesDifferentFromTrainClassesAreReported()
    {
        WriteSmallSet();
        Directory.Move(temp.Combine("test", "dog"), temp.Combine("test", "wolf"));

        var error = Assert.Throws<DatasetFormatException>(() => ImageFolderReader.Read(temp.Path));

        Assert.Equal(temp.Combine("test"), error.FilePath);
        Assert.Equal("test classes differ from train classes (missing in test: [dog]; not in train: [wolf])", error.Problem);
    }

    [Fact]
    public void UnsupportedChannelCountIsRejected()
    {
        WriteSmallSet();

        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolderReader.Read(temp.Path, new ImageFolderOptions(Channels: 2)));
    }
}
