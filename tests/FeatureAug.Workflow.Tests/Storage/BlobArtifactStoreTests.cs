using System.Net;
using System.Net.Sockets;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FeatureAug.Testing;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class BlobArtifactStoreTests(AzuriteFixture azurite) : ArtifactStoreContractTests
{
    /// <summary>Small blocks so the multi-megabyte tests go through staged blocks and a block-list commit.</summary>
    private static readonly BlobArtifactStoreOptions SmallBlocks = new() { BlockSizeBytes = 1024 * 1024, MaxConcurrentBlockUploads = 3 };

    /// <summary>Each test gets its own three containers on the shared Azurite.</summary>
    private readonly string _containerPrefix = "t" + Guid.NewGuid().ToString("N")[..16] + "-";

    private BlobArtifactStore BlobStore => (BlobArtifactStore)Store;

    protected override Task<IArtifactStore> CreateEmptyStoreAsync() =>
        Task.FromResult<IArtifactStore>(new BlobArtifactStore(Service(), _containerPrefix, SmallBlocks));

    protected override async Task DeleteStoreAsync()
    {
        foreach (string root in BlobArtifactStore.Roots)
            await BlobStore.GetContainer(root).DeleteIfExistsAsync();
    }

    private BlobServiceClient Service(BlobClientOptions? options = null) =>
        new(azurite.ConnectionString, options ?? BlobArtifactStore.CreateClientOptions());

    /// <summary>The blob behind an artifact, reached without the store: container = first segment, name = the rest.</summary>
    private BlobClient BlobBehind(string path)
    {
        string[] parts = path.Split('/', 2);
        return BlobStore.GetContainer(parts[0]).GetBlobClient(parts[1]);
    }

    protected override async Task CorruptBehindTheStoreAsync(string path, byte[] replacement)
    {
        BlobClient blob = BlobBehind(path);
        IDictionary<string, string> metadata = (await blob.GetPropertiesAsync()).Value.Metadata;
        await blob.UploadAsync(new BinaryData(replacement), new BlobUploadOptions { Metadata = metadata });
    }

    /// <summary>
    /// A store aimed at a port nobody listens on, with retries off: any request fails at once with a
    /// transport error, so an ArgumentException can only come from validation before the request.
    /// </summary>
    protected override (IArtifactStore Store, Func<bool> StorageWasTouched) CreateStoreWithoutStorage()
    {
        int closedPort;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        BlobClientOptions options = BlobArtifactStore.CreateClientOptions();
        options.Retry.MaxRetries = 0;
        var service = new BlobServiceClient(
            new Uri($"http://127.0.0.1:{closedPort}/{AzuriteFixture.AccountName}"),
            new Azure.Storage.StorageSharedKeyCredential(AzuriteFixture.AccountName, AzuriteFixture.AccountKey), options);
        return (new BlobArtifactStore(service), () => false);
    }

    [Fact]
    public async Task LargeWriteIsCommittedFromStagedBlocksWithItsSha256()
    {
        int length = 3 * SmallBlocks.BlockSizeBytes + 500;
        byte[] content = PatternStream.Bytes(length, seed: 31);

        ArtifactProperties written = await Store.WriteAsync("runs/r1/features/shard-0001.bin", new PatternStream(length, seed: 31), default);

        BlockList blocks = (await BlobStore.GetContainer("runs").GetBlockBlobClient("r1/features/shard-0001.bin").GetBlockListAsync(BlockListTypes.All)).Value;
        Assert.Equal([SmallBlocks.BlockSizeBytes, SmallBlocks.BlockSizeBytes, SmallBlocks.BlockSizeBytes, 500],
            blocks.CommittedBlocks.Select(block => block.SizeLong));
        Assert.Empty(blocks.UncommittedBlocks);
        BlobProperties properties = (await BlobBehind("runs/r1/features/shard-0001.bin").GetPropertiesAsync()).Value;
        Assert.Equal(Sha256Hex(content), properties.Metadata["sha256"]);
        Assert.Equal(written.ETag, properties.ETag.ToString());
    }

    [Fact]
    public async Task EveryRequestUsesThePinnedServiceVersion()
    {
        var versions = new VersionRecorder();
        BlobClientOptions options = BlobArtifactStore.CreateClientOptions();
        options.AddPolicy(versions, HttpPipelinePosition.PerRetry);
        var store = new BlobArtifactStore(Service(options), _containerPrefix, SmallBlocks);

        await store.WriteAsync("runs/r1/reports/report.json", Utf8("{}"), default);
        await store.WriteAsync("runs/r1/features/big.bin", new PatternStream(2 * SmallBlocks.BlockSizeBytes + 1, seed: 2), default);
        await store.ListAsync("runs", default);

        Assert.NotEmpty(versions.Seen);
        Assert.All(versions.Seen, version => Assert.Equal("2025-11-05", version));
    }

    [Fact]
    public async Task EachContainerIsCreatedByTheFirstWriteToIt()
    {
        Assert.Empty(await Store.ListAsync("", default));
        Assert.Empty(await Store.ListAsync("models", default));
        Assert.Null(await Store.GetPropertiesAsync("runs/r1/a.bin", default));
        Assert.False(await Store.DeleteAsync("runs/r1/a.bin", default));
        foreach (string root in BlobArtifactStore.Roots)
            Assert.False((await BlobStore.GetContainer(root).ExistsAsync()).Value, root);

        await Store.WriteAsync("runs/r1/a.bin", Utf8("a"), default);

        Assert.True((await BlobStore.GetContainer("runs").ExistsAsync()).Value);
        Assert.False((await BlobStore.GetContainer("datasets").ExistsAsync()).Value);
        Assert.False((await BlobStore.GetContainer("models").ExistsAsync()).Value);
        Assert.Equal(["runs/r1/a.bin"], await Store.ListAsync("", default));
    }

    [Fact]
    public async Task TheFirstSegmentNamesTheContainerAndTheRestTheBlob()
    {
        await Store.WriteAsync("datasets/shelves/dataset.json", Utf8("{}"), default);
        await Store.WriteAsync("runs/r1/checkpoints/a", Utf8("a"), default);
        await Store.WriteAsync("runs/r10/b", Utf8("b"), default);
        await Store.WriteAsync("models/m1/champion.json", Utf8("{}"), default);

        Assert.Equal(_containerPrefix + "datasets", BlobStore.GetContainer("datasets").Name);
        Assert.Equal(["shelves/dataset.json"], await BlobNamesAsync("datasets"));
        Assert.Equal(["r1/checkpoints/a", "r10/b"], await BlobNamesAsync("runs"));
        Assert.Equal(["m1/champion.json"], await BlobNamesAsync("models"));
        Assert.Equal(["datasets/shelves/dataset.json", "models/m1/champion.json", "runs/r1/checkpoints/a", "runs/r10/b"],
            await Store.ListAsync("", default));
        Assert.Equal(["runs/r1/checkpoints/a", "runs/r10/b"], await Store.ListAsync("runs", default));
        Assert.Equal(["runs/r1/checkpoints/a"], await Store.ListAsync("runs/r1", default));
        Assert.Equal("a", System.Text.Encoding.UTF8.GetString((await BlobBehind("runs/r1/checkpoints/a").DownloadContentAsync()).Value.Content));
    }

    [Fact]
    public async Task AnotherPrefixIsAnotherSetOfContainers()
    {
        await Store.WriteAsync("models/m1/champion.json", Utf8("{}"), default);
        var neighbour = new BlobArtifactStore(Service(), "n" + _containerPrefix, SmallBlocks);

        Assert.Empty(await neighbour.ListAsync("", default));
        Assert.False(await neighbour.ExistsAsync("models/m1/champion.json", default));
        Assert.True(await Store.ExistsAsync("models/m1/champion.json", default));
    }

    [Fact]
    public async Task BlobsNamedUnlikeArtifactsAreNotListed()
    {
        await Store.WriteAsync("runs/r1/a.bin", Utf8("a"), default);
        await BlobStore.GetContainer("runs").GetBlobClient("r1/has space.bin").UploadAsync(new BinaryData("x"));

        Assert.Equal(["runs/r1/a.bin"], await Store.ListAsync("runs", default));
    }

    [Theory]
    [InlineData("scratch/r1/a.bin", "Artifact path 'scratch/r1/a.bin' starts with 'scratch'; the blob artifact store keeps artifacts only under datasets/, runs/, models/")]
    [InlineData("Runs/r1/a.bin", "starts with 'Runs'")]
    [InlineData("runs", "Artifact path 'runs' names a whole container")]
    [InlineData("scratch", "Artifact path 'scratch' starts with 'scratch'")]
    public async Task PathsOutsideTheThreeContainersAreRejectedBeforeAnyRequest(string path, string message)
    {
        (IArtifactStore store, _) = CreateStoreWithoutStorage();

        var read = await Assert.ThrowsAsync<ArgumentException>(() => store.GetPropertiesAsync(path, default));
        var write = await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync(path, Utf8("x"), default));
        var delete = await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAsync(path, default));

        Assert.Contains(message, read.Message);
        Assert.Contains(message, write.Message);
        Assert.Contains(message, delete.Message);
        if (path != "runs") // as a listing prefix, "runs" is the whole container
            Assert.Contains(message, (await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(path, default))).Message);
    }

    [Fact]
    public void ContainerNamesFollowAzuresRules()
    {
        Assert.Equal("dev-runs", BlobArtifactStore.ContainerName("dev-", "runs"));
        Assert.Equal("datasets", BlobArtifactStore.ContainerName("", "datasets"));
        string longest = new('a', 63 - "datasets".Length);
        Assert.Equal(63, BlobArtifactStore.ContainerName(longest, "datasets").Length);
        Assert.Throws<ArgumentException>(() => BlobArtifactStore.ContainerName(longest + "a", "datasets"));
        var root = Assert.Throws<ArgumentException>(() => BlobArtifactStore.ContainerName("", "scratch"));
        Assert.StartsWith("'scratch' is not a container of the blob artifact store; the containers are datasets, runs, models.", root.Message);
        Assert.Throws<ArgumentException>(() => new BlobArtifactStore(Service(), "UPPER-"));
    }

    private async Task<List<string>> BlobNamesAsync(string root)
    {
        var names = new List<string>();
        await foreach (BlobItem item in BlobStore.GetContainer(root).GetBlobsAsync())
            names.Add(item.Name);
        return names;
    }

    private sealed class VersionRecorder : HttpPipelineSynchronousPolicy
    {
        public List<string> Seen { get; } = [];

        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Headers.TryGetValue("x-ms-version", out string? version))
                lock (Seen)
                    Seen.Add(version);
        }
    }
}
