using System.Buffers.Binary;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;

namespace FeatureAug.Testing;

/// <summary>
/// A small long-tailed IDX data set written to disk: 5 classes of 8x8 images, each class a distinct
/// stripe pattern plus seeded noise, training counts 80/40/16/8/6 (head 0-2, tail 3-4 at h_r 0.9).
/// </summary>
public static class TinyDataset
{
    public static readonly int[] TrainCounts = { 80, 40, 16, 8, 6 };
    public const int TestPerClass = 10;
    public const int Size = 8;

    public static string Write(string directory, int seed = 1, int[]? trainCounts = null)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        trainCounts ??= TrainCounts;
        WriteSplit(directory, "train", trainCounts, random);
        WriteSplit(directory, "t10k", trainCounts.Select(_ => TestPerClass).ToArray(), random);
        return directory;
    }

    /// <summary>A request for a quick run on the tiny set: resnet8, 2 epochs, 40 Phase-II iterations.</summary>
    public static RunRequest Request(string runId, string dataDir, RunMode mode = RunMode.Full, string modelName = "tiny-model") =>
        new(runId,
            new DatasetReference(Kind: "idx", DataDir: dataDir, Channels: 1),
            modelName, "resnet8", mode,
            new TrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.05, WarmupEpochs = 0, CropPadding = 1 },
            new FsaOptions { Nf = 2, Nt = 4, Na = 2, FineTuneIterations = 40 },
            new ExecutionSettings(Device: "cpu", Threads: 1, Seed: 3, ExtractShards: 2, EpochsPerActivity: 1));

    private static void WriteSplit(string directory, string prefix, int[] counts, Random random)
    {
        int total = counts.Sum();
        var pixels = new byte[total * Size * Size];
        var labels = new byte[total];
        int i = 0;
        for (int c = 0; c < counts.Length; c++)
        {
            for (int n = 0; n < counts[c]; n++, i++)
            {
                labels[i] = (byte)c;
                for (int y = 0; y < Size; y++)
                    for (int x = 0; x < Size; x++)
                    {
                        bool stripe = c switch { 0 => y % 2 == 0, 1 => x % 2 == 0, 2 => (x + y) % 2 == 0, 3 => y < Size / 2, _ => x < Size / 2 };
                        pixels[i * Size * Size + y * Size + x] = (byte)Math.Clamp((stripe ? 200 : 40) + random.Next(-30, 31), 0, 255);
                    }
            }
        }
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-images-idx3-ubyte"), Idx(0x00000803, new[] { total, Size, Size }, pixels));
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte"), Idx(0x00000801, new[] { total }, labels));
    }

    private static byte[] Idx(int magic, int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int d = 0; d < dimensions.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dimensions[d]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }
}
