using FeatureAug.Testing;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Workflow.Tests.Pipeline;

/// <summary>Bad data and diverging training end the run with a message naming the problem, and store nothing they should not.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("featureaug-bad-input").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private async Task<(OrchestrationMetadata Instance, LocalArtifactStore Store)> RunAsync(RunRequest request, long maxTrainingImages = 2_000_000)
    {
        string storeRoot = Path.Combine(root, "store");
        var options = PipelineHarness.Options(new ArtifactStoreOptions { Kind = ArtifactStoreKind.Local, LocalRoot = storeRoot }, Path.Combine(root, "work"))
            with { MaxTrainingImages = maxTrainingImages };
        var (instance, _) = await PipelineHarness.RunAsync(options, request);
        return (instance, new LocalArtifactStore(storeRoot));
    }

    [Fact]
    public async Task AClassWithoutTrainingSamplesIsNamed()
    {
        // Labels 0, 1, 3, 4 present: class 2 has no sample.
        string data = TinyDataset.Write(Path.Combine(root, "data"), trainCounts: new[] { 80, 40, 0, 8, 6 });
        var (instance, store) = await RunAsync(TinyDataset.Request("empty-class", data));
        Assert.Equal(OrchestrationRuntimeStatus.Failed, instance.RuntimeStatus);
        Assert.Contains("class(es) 2 '2' have no training samples", PipelineHarness.Failure(instance));
        Assert.Empty(await store.ListAsync(new RunLayout("empty-class").Checkpoints, default));
    }

    [Fact]
    public async Task ASingleClassIsRejected()
    {
        string data = TinyDataset.Write(Path.Combine(root, "data"), trainCounts: new[] { 30 });
        var request = TinyDataset.Request("one-class", data);
        var (instance, _) = await RunAsync(request with { Fsa = request.Fsa with { Nf = 1 } });
        Assert.Equal(OrchestrationRuntimeStatus.Failed, instance.RuntimeStatus);
        Assert.Contains("has 1 class; classification needs at least 2", PipelineHarness.Failure(instance));
    }

    [Fact]
    public async Task ADataSetAboveTheSizeLimitIsRejected()
    {
        string data = TinyDataset.Write(Path.Combine(root, "data"));
        var (instance, _) = await RunAsync(TinyDataset.Request("too-big", data), maxTrainingImages: 100);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, instance.RuntimeStatus);
        Assert.Contains("150 training images exceed the configured limit of 100", PipelineHarness.Failure(instance));
    }

    [Fact]
    public async Task ADivergingLossStopsTheRunWithoutPublishingNaNWeights()
    {
        string data = TinyDataset.Write(Path.Combine(root, "data"));
        var request = TinyDataset.Request("diverge", data);
        var (instance, store) = await RunAsync(request with { Training = request.Training with { LearningRate = 1e12 } });
        Assert.Equal(OrchestrationRuntimeStatus.Failed, instance.RuntimeStatus);
        string failure = PipelineHarness.Failure(instance);
        Assert.True(failure.Contains("training diverged"), failure);
        Assert.Contains(nameof(InvalidRunInputException), failure);
        Assert.Empty(await store.ListAsync(new RunLayout("diverge").Checkpoints, default));
    }
}
