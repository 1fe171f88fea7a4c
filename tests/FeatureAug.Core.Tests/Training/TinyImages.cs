using FeatureAug.Core.Data;

namespace FeatureAug.Core.Tests.Training;

/// <summary>Small synthetic image sets for fast training tests.</summary>
internal static class TinyImages
{
    /// <summary>
    /// Grayscale images whose class is visible: class c is bright in horizontal band c of the image
    /// (bands split the height evenly), with seeded noise everywhere, labels cycling 0..classes-1.
    /// </summary>
    public static ImageDataset Bands(int count, int classes = 2, int side = 8, int seed = 0)
    {
        var random = new Random(seed);
        var pixels = new byte[count * side * side];
        var labels = new int[count];
        int band = side / classes;
        for (int i = 0; i < count; i++)
        {
            int label = i % classes;
            labels[i] = label;
            for (int y = 0; y < side; y++)
            {
                for (int x = 0; x < side; x++)
                {
                    bool bright = y / band == label;
                    pixels[i * side * side + y * side + x] = (byte)((bright ? 180 : 20) + random.Next(60));
                }
            }
        }
        var names = Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray();
        return new ImageDataset(pixels, labels, channels: 1, height: side, width: side, names);
    }
}
