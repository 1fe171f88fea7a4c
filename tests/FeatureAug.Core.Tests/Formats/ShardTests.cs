using FeatureAug.Core.Formats;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Tests.Fsa;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Formats;

public sealed class ShardTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fsa-shards-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static ExtractedFeatures Features()
    {
        using var weight = torch.rand(new long[] { 4, 5 }, generator: new torch.Generator(2));
        using var bias = torch.zeros(4);
        return FsaTestData.Synthetic(new[] { 7, 0, 3, 2 }, 5, 2, 3, views: 1, weight, bias, seed: 3);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ShardsRoundTripEveryTensorPerClass(bool vectorsAsHalf)
    {
        using var features = Features();

        await FeatureShardWriter.WriteAsync(features, _directory, vectorsAsHalf);
        var reader = FeatureShardReader.Open(_directory);

        Assert.Equal(new[] { 7, 0, 3, 2 }, reader.Manifest.ClassCounts);
        Assert.Equal((5, 2, 3, 2), (reader.Manifest.FeatureChannels, reader.Manifest.MapHeight, reader.Manifest.MapWidth, reader.Manifest.ViewsPerSample));
        Assert.Equal(5, Directory.GetFiles(_directory).Length);                     // four shards and the manifest, no temporary files
        for (int c = 0; c < 4; c++)
        {
            var original = features.Classes[c];
            using var read = reader.ReadClass(c);
            Assert.Equal(original.SampleIndices, read.SampleIndices);
            Assert.True(FsaTestData.Same(original.Pooled, read.Pooled));
            Assert.True(FsaTestData.Same(original.Cams, read.Cams));
            Assert.True(FsaTestData.Same(original.Scores, read.Scores));
            Assert.Equal(vectorsAsHalf ? ScalarType.Float16 : ScalarType.Float32, read.Vectors.dtype);
            using var expectedVectors = original.Vectors.to_type(read.Vectors.dtype);
            Assert.True(FsaTestData.Same(expectedVectors, read.Vectors));
        }
        using var pooled = reader.ReadPooled();
        using var expectedPooled = features.Pooled();
        Assert.True(FsaTestData.Same(expectedPooled.Features, pooled.Features));
        Assert.Equal(features.MeanScores(), reader.ReadMeanScores());
        var some = reader.ReadMeanScores([1, 3]);
        Assert.Equal([features.MeanScores()[1], features.MeanScores()[3]], new[] { some[1], some[3] });
        Assert.Equal(some.Length - 2, some.Count(row => row is null));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadMeanScores([some.Length]));
    }

    [Fact]
    public async Task ExtractedClassesRoundTripThoughTheyShareOneStorage()
    {
        torch.manual_seed(8);
        using var model = new TinyFeatureClassifier(1, 3, 3);
        var data = FsaTestData.Images(new[] { 2, 0, 1, 0, 2, 2, 1 }, 3, seed: 9);
        using var features = FeatureExtractor.Extract(model, data, FeatureAug.Core.Data.Normalization.FromDataset(data), 4, torch.CPU, views: 1, seed: 1);

        await FeatureShardWriter.WriteAsync(features, _directory, vectorsAsHalf: false);
        var reader = FeatureShardReader.Open(_directory);

        for (int c = 0; c < 3; c++)
        {
            using var read = reader.ReadClass(c);
            Assert.Equal(features.Classes[c].SampleIndices, read.SampleIndices);
            Assert.True(FsaTestData.Same(features.Classes[c].Pooled, read.Pooled));
            Assert.True(FsaTestData.Same(features.Classes[c].Vectors, read.Vectors));
            Assert.True(FsaTestData.Same(features.Classes[c].Cams, read.Cams));
            Assert.True(FsaTestData.Same(features.Classes[c].Scores, read.Scores));
        }
    }

    [Fact]
    public async Task ABankRoundTripsWithItsStatistics()
    {
        var statistics = new FusionStatistics(7, 3, 1, 0, 1, 2.5, 4.25, RejectedAmbiguous: 1);
        using var bank = new FusionBank(7, torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 3, 2 }), statistics);
        string path = Path.Combine(_directory, "bank-7.safetensors");

        await FeatureShardWriter.WriteBankAsync(bank, path);
        using var read = FeatureShardReader.ReadBank(path);

        Assert.Equal(statistics, read.Statistics);
        Assert.Equal(2, read.Statistics.Fallbacks);
        Assert.True(FsaTestData.Same(bank.Features, read.Features));
    }

    [Fact]
    public void ABankWrittenBeforeRejectionExistedReadsAsNoneRejected()
    {
        Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, "bank-old.safetensors");
        using (var stream = File.Create(path))
            TorchSharp.PyBridge.Safetensors.SaveStateDict(stream, new Dictionary<string, torch.Tensor>
            {
                ["features"] = torch.ones(2, 3),
                ["statistics_counts"] = torch.tensor(new long[] { 4, 2, 0, 1, 0 }),
                ["statistics_means"] = torch.tensor(new[] { 1.5, 2.0 }),
            });

        using var read = FeatureShardReader.ReadBank(path);

        Assert.Equal(new FusionStatistics(4, 2, 0, 1, 0, 1.5, 2.0, RejectedAmbiguous: 0), read.Statistics);
    }

    [Fact]
    public async Task FusingFromShardsGivesTheBankFusedInMemory()
    {
        using var features = Features();
        await FeatureShardWriter.WriteAsync(features, _directory, vectorsAsHalf: false);
        var reader = FeatureShardReader.Open(_directory);
        var options = new FsaOptions { HeadRatio = 0.6, Nf = 2, Nt = 2, Na = 2, FineTuneIterations = 20, Views = 1 };

        var plan = AugmentationPlan.Create(features.ClassCounts(), features.MeanScores(), options, seed: 8);
        var rebuilt = AugmentationPlan.Create(reader.Manifest.ClassCounts, reader.ReadMeanScores(), options, seed: 8);
        Assert.Equal(plan.TailDrawSamples, rebuilt.TailDrawSamples);
        foreach (int c in plan.FusedClasses)
        {
            Assert.Equal(plan.ConfusingClasses[c], rebuilt.ConfusingClasses[c]);
            using var inMemory = FeatureFusion.FuseTailClass(features.Classes[c], plan.ConfusingClasses[c].Select(k => features.Classes[k]).ToList(),
                plan.TailDrawsOfClass(c), options.Na, options.TauS, options.TauG, plan.FusionSeed(c));
            using var tail = reader.ReadClass(c);
            var confusing = rebuilt.ConfusingClasses[c].Select(reader.ReadClass).ToList();
            using var fromShards = FeatureFusion.FuseTailClass(tail, confusing, rebuilt.TailDrawsOfClass(c), options.Na, options.TauS, options.TauG, rebuilt.FusionSeed(c));
            foreach (var other in confusing) other.Dispose();
            Assert.True(inMemory.Count > 0);
            Assert.True(FsaTestData.Same(inMemory.Features, fromShards.Features));
        }
    }

    [Fact]
    public async Task LabelledPooledFeaturesRoundTrip()
    {
        using var features = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 3, 2 });
        string path = Path.Combine(_directory, "test-pooled.safetensors");

        await FeatureShardWriter.WriteLabelledPooledAsync(features, new[] { 2, 0, 1 }, path);
        var (read, labels) = FeatureShardReader.ReadLabelledPooled(path);

        using (read)
        {
            Assert.True(FsaTestData.Same(features, read));
            Assert.Equal(new[] { 2, 0, 1 }, labels);
        }
    }

    [Fact]
    public async Task MissingAndDamagedShardsAreReportedByFile()
    {
        Assert.Contains("No feature manifest", Assert.Throws<FileNotFoundException>(() => FeatureShardReader.Open(_directory)).Message);

        using var features = Features();
        await FeatureShardWriter.WriteAsync(features, _directory, vectorsAsHalf: false);
        string shard = Path.Combine(_directory, FeatureShardWriter.ShardName(2));
        File.WriteAllBytes(shard, new byte[] { 1, 2, 3 });
        var reader = FeatureShardReader.Open(_directory);
        var damaged = Assert.Throws<InvalidDataException>(() => reader.ReadClass(2));
        Assert.Contains(shard, damaged.Message);

        await FeatureShardWriter.WriteClassAsync(features.Classes[3], shard, vectorsAsHalf: false);   // another class's shard in its place
        var wrong = Assert.Throws<InvalidDataException>(() => reader.ReadClass(2));
        Assert.Contains("tensor 'sample_index' is Int64 [2], expected Int64 [3]", wrong.Message);

        File.Delete(shard);
        Assert.Contains("is missing", Assert.Throws<FileNotFoundException>(() => reader.ReadClass(2)).Message);
    }

    [Fact]
    public async Task ACancelledWriteLeavesNoFile()
    {
        using var features = Features();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FeatureShardWriter.WriteAsync(features, _directory, false, cancelled.Token));
        Assert.Empty(Directory.Exists(_directory) ? Directory.GetFiles(_directory) : Array.Empty<string>());
    }
}
