using System.Diagnostics;
using FeatureAug.LocalEngine;
using FeatureAug.Testing;
using FeatureAug.Workflow.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FeatureAug.Workflow.Tests.Pipeline;

/// <summary>The host's shutdown reaches a running activity body through the base's token.</summary>
[Collection(TestCollections.BitExact)]
public sealed class ShutdownTests(ITestOutputHelper output) : LocalPipelineTest("shutdown")
{
    [Fact]
    public async Task DisposingTheEngineCancelsTheRunningTrainingActivityWhichKeepsItsFinishedEpochs()
    {
        // All of Phase I in one activity, minutes of work: only the cancellation can end it during the test.
        const int epochs = 500;
        var request = TinyDataset.Request("stop-1", DataDir);
        request = request with { Training = request.Training with { Epochs = epochs }, Execution = request.Execution with { EpochsPerActivity = epochs } };
        var logs = new TestOutputLoggerProvider(output);
        using var loggerFactory = logs.CreateFactory();
        using var timeout = new CancellationTokenSource(PipelineHarness.Timeout);

        var engine = await EmbeddedEngine.StartAsync(Options, 1, loggerFactory, cancellationToken: timeout.Token);
        var executions = engine.Services.GetRequiredService<ActivityExecutionLog>();
        var secondEpoch = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.Services.GetRequiredService<RunProgressHub>().Updated += p =>
        {
            if (p.Stage == "TrainBackbone" && p.Detail.StartsWith($"epoch 2/{epochs} ", StringComparison.Ordinal)) secondEpoch.TrySetResult();
        };
        var stopping = new Stopwatch();
        await using (engine)
        {
            await RunLauncher.StartOrAttachAsync(engine.Client, request, timeout.Token);
            await secondEpoch.Task.WaitAsync(timeout.Token);
            stopping.Start();
        }
        stopping.Stop();

        // Disposing returns once the body has unwound (the host waits for it), so its end is already recorded.
        const string train = nameof(TrainBackboneActivity);
        Assert.Single(executions.Intervals(request.RunId, train));
        Assert.Equal(0, executions.ComputedCount(request.RunId, train));
        Assert.Contains(logs.Lines, line => line.Contains($"Run {request.RunId}: {train} cancelled by the host's shutdown", StringComparison.Ordinal));
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(60), $"stopping took {stopping.Elapsed}");

        // The epochs finished before the interrupt were published, in order from the first; the run stopped long before its end.
        var manifests = (await Store.ListAsync(new RunLayout(request.RunId).Checkpoints, default)).Where(p => p.EndsWith(".json", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(manifests);
        Assert.True(manifests.Count < epochs, $"{manifests.Count} epochs were trained");
        for (int epoch = 1; epoch <= manifests.Count; epoch++)
            Assert.True(await Store.ExistsAsync(new RunLayout(request.RunId).CheckpointManifest(epoch), default), $"epoch {epoch} is missing");
        // The body left its scratch directory behind it.
        Assert.Empty(Directory.GetDirectories(Path.Combine(Root, "work", request.RunId)));
    }
}
