namespace FeatureAug.Core.Data;

/// <summary>
/// An in-memory labelled image set stored as raw 8-bit pixels in N x C x H x W order.
/// Kept as bytes (not tensors) so large sets cost one byte per pixel and subsets are cheap.
/// </summary>
public sealed class ImageDataset
{
    public ImageDataset(byte[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"Image shape must be positive, got {channels}x{height}x{width}.");
        long expected = (long)labels.Length * channels * height * width;
        if (pixels.LongLength != expected)
            throw new ArgumentException($"Pixel buffer holds {pixels.LongLength} bytes but {labels.Length} images of {channels}x{height}x{width} need {expected}.");
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= classNames.Count)
                throw new ArgumentException($"Label {labels[i]} of image {i} is outside 0..{classNames.Count - 1}.");
        }
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    public byte[] Pixels { get; }
    public int[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int Count => Labels.Length;
    public int NumClasses => ClassNames.Count;
    public int ImageSize => Channels * Height * Width;

    /// <summary>Number of images of each class, indexed by class.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[NumClasses];
        foreach (int label in Labels) counts[label]++;
        return counts;
    }

    /// <summary>A new dataset holding the given images in the given order.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices)
    {
        int size = ImageSize;
        var pixels = new byte[(long)indices.Count * size];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int source = indices[i];
            Buffer.BlockCopy(Pixels, source * size, pixels, i * size, size);
            labels[i] = Labels[source];
        }
        return new ImageDataset(pixels, labels, Channels, Height, Width, ClassNames);
    }
}

/// <summary>
/// A training set and a test set with the same classes and image shape, and the validation set when the data set
/// brings its own (an image folder's val/); <see cref="ValidationSplit"/> holds one out of the training set otherwise.
/// </summary>
public sealed record DatasetSplit(string Name, ImageDataset Train, ImageDataset Test, ImageDataset? Validation = null);
