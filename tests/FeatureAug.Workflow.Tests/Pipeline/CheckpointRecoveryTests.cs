using FeatureAug.Testing;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Workflow.Tests.Pipeline;

[Collection(TestCollections.BitExact)]
public sealed class CheckpointRecoveryTests() : LocalPipelineTest("checkpoint-recovery")
{
    [Fact]
    public async Task ACorruptedCheckpointIsDetectedAndTheGoodOneBeforeItIsUsed()
    {
        var request = TinyDataset.Request("ck-1", DataDir) with { Training = TinyDataset.Request("x", DataDir).Training with { Epochs = 3 } };
        var (first, _) = await PipelineHarness.RunAsync(Options, request);
        Assert.True(first.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(first));
        string checkpoints = new RunLayout("ck-1").Checkpoints;
        string epoch3 = ArtifactPath.Combine(checkpoints, "epoch-0003.model.safetensors");
        string originalEpoch3 = (await Store.GetPropertiesAsync(epoch3, default))!.Sha256!;

        // Storage damages epoch 2 (flipped bytes) and loses epoch 3, as if the replica died mid-chunk.
        string damaged = Store.GetFilePath(ArtifactPath.Combine(checkpoints, "epoch-0002.model.safetensors"));
        var bytes = File.ReadAllBytes(damaged);
        for (int i = bytes.Length - 64; i < bytes.Length; i++) bytes[i] ^= 0xFF;
        File.WriteAllBytes(damaged, bytes);
        foreach (string name in new[] { "epoch-0003.json", "epoch-0003.model.safetensors", "epoch-0003.optimizer.safetensors" })
            await Store.DeleteAsync(ArtifactPath.Combine(checkpoints, name), default);

        var (second, executions) = await PipelineHarness.RunAsync(Options, request);

        Assert.True(second.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(second));
        Assert.Equal(1, executions.ComputedCount("ck-1", nameof(TrainBackboneActivity))); // only the lost chunk
        // Resumed from epoch 1, epochs 2 and 3 were trained again, bit for bit as before (same seed).
        Assert.Equal(originalEpoch3, (await Store.GetPropertiesAsync(epoch3, default))!.Sha256);
        await using (var repaired = await Store.OpenReadAsync(ArtifactPath.Combine(checkpoints, "epoch-0002.model.safetensors"), default))
            await repaired.CopyToAsync(Stream.Null); // reads through the SHA-256 check
    }

}
