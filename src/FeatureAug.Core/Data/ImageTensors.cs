using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Data;

/// <summary>Per-channel mean and standard deviation applied to pixels scaled to [0, 1].</summary>
public sealed record Normalization(float[] Mean, float[] Std)
{
    /// <summary>Statistics of a training set, computed once from its pixels.</summary>
    public static Normalization FromDataset(ImageDataset dataset)
    {
        int channels = dataset.Channels, plane = dataset.Height * dataset.Width;
        var sum = new double[channels];
        var sumSquares = new double[channels];
        for (int i = 0; i < dataset.Count; i++)
        {
            int imageStart = i * dataset.ImageSize;
            for (int c = 0; c < channels; c++)
            {
                int start = imageStart + c * plane;
                for (int p = 0; p < plane; p++)
                {
                    double v = dataset.Pixels[start + p] / 255.0;
                    sum[c] += v;
                    sumSquares[c] += v * v;
                }
            }
        }
        double n = Math.Max(1.0, (double)dataset.Count * plane);
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / n;
            mean[c] = (float)m;
            std[c] = (float)Math.Max(1e-6, Math.Sqrt(Math.Max(0, sumSquares[c] / n - m * m)));
        }
        return new Normalization(mean, std);
    }
}

/// <summary>Phase-I input augmentation: random crop after zero padding, and horizontal flip.</summary>
public sealed record AugmentationOptions(int CropPadding = 4, bool HorizontalFlip = true);

/// <summary>Turns dataset images into normalised float tensors (N x C x H x W).</summary>
public static class ImageTensors
{
    /// <summary>
    /// Builds one batch. With <paramref name="augmentation"/> set, each image gets its own random crop
    /// offset and flip drawn from <paramref name="random"/>, so a seeded Random makes batches repeatable.
    /// Without it nothing is random (evaluation and feature extraction).
    /// </summary>
    public static Tensor ToBatch(
        ImageDataset dataset, IReadOnlyList<int> indices, Normalization normalization,
        AugmentationOptions? augmentation = null, Random? random = null, Device? device = null)
    {
        if (augmentation is not null && random is null)
            throw new ArgumentException("Augmented batches need a seeded Random.", nameof(random));
        int channels = dataset.Channels, height = dataset.Height, width = dataset.Width, plane = height * width;
        int size = dataset.ImageSize;
        var values = new float[indices.Count * size];
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = 1f / (255f * normalization.Std[c]);
            shift[c] = -normalization.Mean[c] / normalization.Std[c];
        }

        for (int i = 0; i < indices.Count; i++)
        {
            int source = indices[i] * size;
            int target = i * size;
            int dy = 0, dx = 0;
            bool flip = false;
            if (augmentation is not null)
            {
                int pad = augmentation.CropPadding;
                dy = random!.Next(-pad, pad + 1);
                dx = random.Next(-pad, pad + 1);
                flip = augmentation.HorizontalFlip && random.Next(2) == 1;
            }
            for (int c = 0; c < channels; c++)
            {
                // Padding is zero in pixel space, i.e. black, as torchvision's RandomCrop(padding=p).
                float padValue = shift[c];
                for (int y = 0; y < height; y++)
                {
                    int sy = y + dy;
                    for (int x = 0; x < width; x++)
                    {
                        int sx = (flip ? width - 1 - x : x) + dx;
                        float v = sy < 0 || sy >= height || sx < 0 || sx >= width
                            ? padValue
                            : dataset.Pixels[source + c * plane + sy * width + sx] * scale[c] + shift[c];
                        values[target + c * plane + y * width + x] = v;
                    }
                }
            }
        }
        var batch = torch.tensor(values, new long[] { indices.Count, channels, height, width });
        return device is null || device.type == DeviceType.CPU ? batch : batch.to(device);
    }

    /// <summary>Labels of the given images as an int64 tensor.</summary>
    public static Tensor Labels(ImageDataset dataset, IReadOnlyList<int> indices, Device? device = null)
    {
        var labels = new long[indices.Count];
        for (int i = 0; i < indices.Count; i++) labels[i] = dataset.Labels[indices[i]];
        var tensor = torch.tensor(labels);
        return device is null || device.type == DeviceType.CPU ? tensor : tensor.to(device);
    }
}
