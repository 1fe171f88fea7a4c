using FeatureAug.Core.Data;
using FeatureAug.Core.Evaluation;
using FeatureAug.Core.Models;
using FeatureAug.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Training;

[Collection(GlobalTorchRandomCollection.Name)]
public sealed class BackboneTrainingTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "featureaug-train-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }

    private static readonly ImageDataset Train = TinyImages.Bands(count: 24, classes: 2, seed: 1);
    private static readonly Normalization Norm = Normalization.FromDataset(Train);

    private static TrainingOptions Options(int epochs) => new()
    {
        Epochs = epochs, BatchSize = 8, LearningRate = 0.05, WarmupEpochs = epochs > 1 ? 1 : 0,
        Schedule = LearningRateSchedule.Step, Milestones = new[] { epochs }, CropPadding = 1,
    };

    private const int Seed = 3;

    private static FeatureClassifier NewModel(int seed)
    {
        torch.manual_seed(seed);
        return ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 2);
    }

    private static void AssertSameState(nn.Module expected, nn.Module actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        Assert.All(a.Keys, key => Assert.True(a[key].Equals(b[key]), $"{key} differs"));
    }

    [Fact]
    public void LearnsASeparableTask()
    {
        using var model = NewModel(0);
        var options = Options(epochs: 4);
        var result = BackboneTraining.Train(model, Train, Norm, options, Seed, torch.CPU);

        Assert.Equal(0, result.StartEpoch);
        Assert.Equal(4, result.FinalEpoch);
        Assert.Equal(4, result.EpochLosses.Count);
        Assert.True(result.EpochLosses[^1] < result.EpochLosses[0], $"loss should fall: {string.Join(", ", result.EpochLosses)}");
        Assert.True(result.ImagesPerSecond > 0);
        var test = TinyImages.Bands(count: 10, classes: 2, seed: 99);
        Assert.Equal(test.Labels, Predictor.Predict(model, test, Norm, batchSize: 4, torch.CPU));
    }

    [Fact]
    public void ResumingFromACheckpointReproducesAnUninterruptedRun()
    {
        var options = Options(epochs: 2);
        using var straight = NewModel(7);
        var straightResult = BackboneTraining.Train(straight, Train, Norm, options, Seed, torch.CPU, new CheckpointOptions(Path.Combine(directory, "straight")));

        var chunked = new CheckpointOptions(Path.Combine(directory, "chunked"));
        using (var first = NewModel(7))
        {
            var firstResult = BackboneTraining.TrainUntil(first, Train, Norm, options, Seed, torch.CPU, endEpoch: 1, chunked);
            Assert.Equal((0, 1), (firstResult.StartEpoch, firstResult.FinalEpoch));
        }
        // New model and optimizer objects, initialised differently: everything must come from the checkpoint.
        using var resumed = NewModel(8);
        var resumedResult = BackboneTraining.Train(resumed, Train, Norm, options, Seed, torch.CPU, chunked);

        Assert.Equal((1, 2), (resumedResult.StartEpoch, resumedResult.FinalEpoch));
        Assert.Equal(straightResult.EpochLosses, resumedResult.EpochLosses);
        AssertSameState(straight, resumed);
    }

    [Fact]
    public void ResumingWithoutMomentumDiffers()
    {
        // Guards the test above: losing the optimizer state must be visible in the weights.
        var options = Options(epochs: 2);
        using var straight = NewModel(7);
        BackboneTraining.Train(straight, Train, Norm, options, Seed, torch.CPU);
        using (var first = NewModel(7)) BackboneTraining.TrainUntil(first, Train, Norm, options, Seed, torch.CPU, endEpoch: 1, new CheckpointOptions(directory));

        var manifest = Checkpoint.FindLatest(directory)!;
        string withoutMomentum = Path.Combine(directory, "without-momentum");
        using (var loaded = NewModel(8))
        {
            Checkpoint.LoadModel(directory, manifest, loaded);
            Checkpoint.Save(withoutMomentum, manifest.State, loaded, new Dictionary<string, Tensor>());
        }
        using var resumed = NewModel(9);
        BackboneTraining.Train(resumed, Train, Norm, options, Seed, torch.CPU, new CheckpointOptions(withoutMomentum));
        Assert.False(straight.state_dict()["fc.weight"].Equals(resumed.state_dict()["fc.weight"]));
    }

    [Fact]
    public void AFinishedChunkOnlyLoadsItsCheckpoint()
    {
        var options = Options(epochs: 3);
        var checkpoints = new CheckpointOptions(directory);
        using var trained = NewModel(1);
        BackboneTraining.Train(trained, Train, Norm, options, Seed, torch.CPU, checkpoints);

        using var reloaded = NewModel(2);
        var result = BackboneTraining.Train(reloaded, Train, Norm, options, Seed, torch.CPU, checkpoints);
        Assert.Equal((3, 3), (result.StartEpoch, result.FinalEpoch));
        Assert.Equal(3, result.EpochLosses.Count);
        Assert.Equal(0, result.ImagesPerSecond);
        AssertSameState(trained, reloaded);
    }

    [Fact]
    public void ACheckpointFromOtherOptionsIsRefused()
    {
        var options = Options(epochs: 2);
        var checkpoints = new CheckpointOptions(directory);
        using (var model = NewModel(0)) BackboneTraining.TrainUntil(model, Train, Norm, options, Seed, torch.CPU, endEpoch: 1, checkpoints);
        using var other = NewModel(0);
        var error = Assert.Throws<InvalidOperationException>(
            () => BackboneTraining.Train(other, Train, Norm, options with { LearningRate = 0.01 }, Seed, torch.CPU, checkpoints));
        Assert.Contains(directory, error.Message);
        Assert.Contains("other training options", error.Message);
    }

    [Fact]
    public void WhereCheckpointsGoDoesNotChangeTheTrajectoryTheyRecord()
    {
        // The trajectory hash covers the options and the seed only: two placements record the same one.
        var options = Options(epochs: 1);
        using (var a = NewModel(0)) BackboneTraining.Train(a, Train, Norm, options, Seed, torch.CPU, new CheckpointOptions(Path.Combine(directory, "a"), keep: 5));
        using (var b = NewModel(0)) BackboneTraining.Train(b, Train, Norm, options, Seed, torch.CPU, new CheckpointOptions(Path.Combine(directory, "b"), keep: 1));

        Assert.Equal(options.TrajectoryHash(Seed), Checkpoint.FindLatest(Path.Combine(directory, "a"))!.State.OptionsHash);
        Assert.Equal(options.TrajectoryHash(Seed), Checkpoint.FindLatest(Path.Combine(directory, "b"))!.State.OptionsHash);
    }

    [Fact]
    public void SameSeedSameRunDifferentSeedDifferentRun()
    {
        var options = Options(epochs: 1);
        using var a = NewModel(5);
        using var b = NewModel(5);
        using var c = NewModel(5);
        BackboneTraining.Train(a, Train, Norm, options, Seed, torch.CPU);
        BackboneTraining.Train(b, Train, Norm, options, Seed, torch.CPU);
        BackboneTraining.Train(c, Train, Norm, options, seed: 4, torch.CPU);
        AssertSameState(a, b);
        Assert.False(a.state_dict()["fc.weight"].Equals(c.state_dict()["fc.weight"]));
    }

    [Fact]
    public void ReportsEveryStep()
    {
        var reports = new List<TrainingProgress>();
        using var model = NewModel(0);
        var options = Options(epochs: 2) with { BatchSize = 10 };
        BackboneTraining.Train(model, Train, Norm, options, Seed, torch.CPU, progress: new Callback(reports.Add));

        // 24 images in batches of 10: 3 steps per epoch, the last one holding 4 images.
        Assert.Equal(6, reports.Count);
        Assert.Equal(new[] { (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3) }, reports.Select(r => (r.Epoch, r.Step)));
        Assert.All(reports, r => Assert.Equal((2, 3), (r.Epochs, r.StepsPerEpoch)));
        Assert.All(reports, r => Assert.True(r.Loss > 0 && r.ImagesPerSecond > 0));
        Assert.Equal(Enumerable.Range(0, 6).Select(s => LearningRates.At(options, s, 3)), reports.Select(r => r.LearningRate));
    }

    [Fact]
    public void TwoHundredStepsDoNotLeakTensors()
    {
        // 40 epochs of 5 steps of 4 images, a checkpoint after each epoch.
        var data = TinyImages.Bands(count: 20, classes: 2, seed: 2);
        var options = new TrainingOptions
        {
            Epochs = 40, BatchSize = 4, WarmupEpochs = 0, Schedule = LearningRateSchedule.Step, Milestones = new[] { 20 }, CropPadding = 4,
        };
        var liveAfterStep = new Dictionary<int, long>();
        int step = 0;
        using var model = NewModel(0);
        // The training loop runs on this thread, so the per-thread count sees every tensor it creates or frees.
        BackboneTraining.Train(model, data, Normalization.FromDataset(data), options, seed: 1, torch.CPU, new CheckpointOptions(directory, keep: 1),
            new Callback(_ => liveAfterStep[++step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount));

        Assert.Equal(200, step);
        // Momentum buffers appear in the first step; from the end of the first epoch on nothing may accumulate.
        Assert.Equal(liveAfterStep[5], liveAfterStep[200]);
        Assert.Equal(liveAfterStep[5], liveAfterStep[100]);
        Assert.Single(Checkpoint.List(directory));
    }

    [Fact]
    public void CancellationStopsBeforeTheNextStep()
    {
        using var cancellation = new CancellationTokenSource();
        int steps = 0;
        using var model = NewModel(0);
        var options = Options(epochs: 3);
        Assert.ThrowsAny<OperationCanceledException>(() => BackboneTraining.Train(model, Train, Norm, options, Seed, torch.CPU, new CheckpointOptions(directory),
            new Callback(p => { if (++steps == 4) cancellation.Cancel(); }), cancellation.Token));
        Assert.Equal(4, steps);
        Assert.Equal(1, Checkpoint.FindLatest(directory)!.Epoch);
    }

    [Fact]
    public void DataThatDoesNotFitIsRejected()
    {
        using var model = NewModel(0);
        var threeClasses = TinyImages.Bands(count: 6, classes: 3);
        Assert.Contains("3 classes", Assert.Throws<ArgumentException>(
            () => BackboneTraining.Train(model, threeClasses, Norm, Options(1), Seed, torch.CPU)).Message);
        var rgbNorm = new Normalization(new float[] { 0, 0, 0 }, new float[] { 1, 1, 1 });
        Assert.Contains("3 means", Assert.Throws<ArgumentException>(
            () => BackboneTraining.Train(model, Train, rgbNorm, Options(1), Seed, torch.CPU)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BackboneTraining.TrainUntil(model, Train, Norm, Options(1), Seed, torch.CPU, endEpoch: 2));
        Assert.StartsWith("TrainingOptions.BatchSize", Assert.Throws<ArgumentException>(
            () => BackboneTraining.Train(model, Train, Norm, Options(1) with { BatchSize = 0 }, Seed, torch.CPU)).Message);
    }

    [Fact]
    public void EpochOrderIsASeededPermutation()
    {
        var order = BackboneTraining.EpochOrder(50, seed: 3, epoch: 4);
        Assert.Equal(Enumerable.Range(0, 50), order.OrderBy(i => i));
        Assert.Equal(order, BackboneTraining.EpochOrder(50, seed: 3, epoch: 4));
        Assert.NotEqual(order, BackboneTraining.EpochOrder(50, seed: 3, epoch: 5));
        Assert.NotEqual(order, BackboneTraining.EpochOrder(50, seed: 4, epoch: 4));
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post elsewhere).</summary>
    private sealed class Callback(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
