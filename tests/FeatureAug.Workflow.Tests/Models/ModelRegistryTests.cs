using FeatureAug.Testing;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Tests.Models;

/// <summary>Promotion safety, on both stores: worse challengers lose, concurrent promoters cannot both win, history allows rollback.</summary>
public abstract class ModelRegistryContract
{
    protected abstract IArtifactStore CreateStore();

    private static ChampionPointer Challenger(string runId, double top1) =>
        new(0, runId, $"runs/{runId}/checkpoints/epoch-0002.json", $"runs/{runId}/heads/fsa.safetensors",
            $"runs/{runId}/model/model.safetensors", "fsa", top1, DateTimeOffset.UtcNow);

    [Fact]
    public async Task AWorseChallengerNeverReplacesTheChampion()
    {
        var registry = new ModelRegistry(CreateStore());
        Assert.True((await registry.TryPromoteAsync("m", Challenger("r1", 0.80), 0.01, null, default)).Promoted);
        var worse = await registry.TryPromoteAsync("m", Challenger("r2", 0.805), 0.01, null, default);
        Assert.False(worse.Promoted); // better, but not by the margin
        Assert.Equal(0.80, worse.ChampionTop1);
        Assert.Equal("r1", (await registry.GetChampionAsync("m", default))!.RunId);

        // Re-measured on today's data the champion is weaker: the challenger wins against that figure.
        var fair = await registry.TryPromoteAsync("m", Challenger("r3", 0.79), 0.01, new ChampionEvaluation("r1", 0.70), default);
        Assert.True(fair.Promoted);
        Assert.Equal(0.70, fair.ChampionTop1);
    }

    [Fact]
    public async Task ConcurrentPromotersCannotBothWin()
    {
        var store = CreateStore();
        var first = new ModelRegistry(store);
        await first.TryPromoteAsync("race", Challenger("base", 0.50), 0.0, null, default);

        // Sixteen promoters with distinct, all better, accuracies race from separate registries.
        var decisions = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            new ModelRegistry(store).TryPromoteAsync("race", Challenger($"c{i}", 0.60 + i * 0.01), 0.0, null, default)));

        var champion = (await first.GetChampionAsync("race", default))!;
        var history = await first.HistoryAsync("race", default);
        // Every promotion that claims success is in the history, each version exactly once, forming one chain.
        Assert.Equal(history.Select(h => h.Version), Enumerable.Range(1, history.Count));
        Assert.Equal(decisions.Count(d => d.Promoted), history.Count - 1);
        for (int v = 1; v < history.Count; v++) Assert.Equal(history[v - 1].Champion.RunId, history[v].Previous!.RunId);
        Assert.Equal(history[^1].Champion.RunId, champion.RunId);
        Assert.Equal("c15", champion.RunId); // the best one must end up champion: nobody can overwrite it
    }

    [Fact]
    public async Task RollbackRestoresThePreviousChampionAndIsRecorded()
    {
        var registry = new ModelRegistry(CreateStore());
        await registry.TryPromoteAsync("rb", Challenger("a", 0.6), 0, null, default);
        await registry.TryPromoteAsync("rb", Challenger("b", 0.7), 0, null, default);
        await registry.TryPromoteAsync("rb", Challenger("c", 0.8), 0, null, default);

        Assert.Equal("b", (await registry.RollbackAsync("rb", default)).RunId);
        Assert.Equal("a", (await registry.RollbackAsync("rb", default)).RunId);
        await Assert.ThrowsAsync<InvalidOperationException>(() => registry.RollbackAsync("rb", default));
        var history = await registry.HistoryAsync("rb", default);
        Assert.Equal(new[] { "promote", "promote", "promote", "rollback", "rollback" }, history.Select(h => h.Action));
        Assert.Equal("a", (await registry.GetChampionAsync("rb", default))!.RunId);
    }
}

public sealed class LocalModelRegistryTests : ModelRegistryContract, IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("featureaug-registry").FullName;

    protected override IArtifactStore CreateStore() => new LocalArtifactStore(root);

    public void Dispose() => Directory.Delete(root, recursive: true);
}

[Collection(AzuriteCollection.Name)]
public sealed class BlobModelRegistryTests(AzuriteFixture azurite) : ModelRegistryContract
{
    private readonly string containerPrefix = "registry-" + Guid.NewGuid().ToString("N")[..8] + "-";

    protected override IArtifactStore CreateStore() => ArtifactStoreFactory.Create(new ArtifactStoreOptions
    {
        Kind = ArtifactStoreKind.Blob, ConnectionString = azurite.ConnectionString, ContainerPrefix = containerPrefix,
    });
}
