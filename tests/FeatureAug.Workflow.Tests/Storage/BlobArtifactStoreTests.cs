using System.Net;
using System.Net.Sockets;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FeatureAug.Workflow.Storage;
using FeatureAug.Workflow.Tests.Azurite;

namespace FeatureAug.Workflow.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class BlobArtifactStoreTests(AzuriteFixture azurite) : ArtifactStoreContractTests
{
    /// <summary>Small blocks so the multi-megabyte tests go through staged blocks and a block-list commit.</summary>
    private static readonly BlobArtifactStoreOptions SmallBlocks = new() { BlockSizeBytes = 1024 * 1024, MaxConcurrentBlockUploads = 3 };

    private readonly string _containerName = "t" + Guid.NewGuid().ToString("N");

    private BlobContainerClient Container => ((BlobArtifactStore)Store).Container;

    protected override Task<IArtifactStore> CreateEmptyStoreAsync()
    {
        var service = new BlobServiceClient(azurite.ConnectionString, BlobArtifactStore.CreateClientOptions());
        return Task.FromResult<IArtifactStore>(new BlobArtifactStore(service.GetBlobContainerClient(_containerName), SmallBlocks));
    }

    protected override Task DeleteStoreAsync() => Container.DeleteIfExistsAsync();

    protected override async Task CorruptBehindTheStoreAsync(string path, byte[] replacement)
    {
        BlobClient blob = Container.GetBlobClient(path);
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
        var container = new BlobContainerClient(
            new Uri($"http://127.0.0.1:{closedPort}/{AzuriteFixture.AccountName}/unreachable"),
            new Azure.Storage.StorageSharedKeyCredential(AzuriteFixture.AccountName, AzuriteFixture.AccountKey), options);
        return (new BlobArtifactStore(container), () => false);
    }

    [Fact]
    public async Task LargeWriteIsCommittedFromStagedBlocksWithItsSha256()
    {
        int length = 3 * SmallBlocks.BlockSizeBytes + 500;
        byte[] content = PatternStream.Bytes(length, seed: 31);

        ArtifactProperties written = await Store.WriteAsync("runs/r1/features/shard-0001.bin", new PatternStream(length, seed: 31), default);

        BlockList blocks = (await Container.GetBlockBlobClient("runs/r1/features/shard-0001.bin").GetBlockListAsync(BlockListTypes.All)).Value;
        Assert.Equal([SmallBlocks.BlockSizeBytes, SmallBlocks.BlockSizeBytes, SmallBlocks.BlockSizeBytes, 500],
            blocks.CommittedBlocks.Select(block => block.SizeLong));
        Assert.Empty(blocks.UncommittedBlocks);
        BlobProperties properties = (await Container.GetBlobClient("runs/r1/features/shard-0001.bin").GetPropertiesAsync()).Value;
        Assert.Equal(Sha256Hex(content), properties.Metadata["sha256"]);
        Assert.Equal(written.ETag, properties.ETag.ToString());
    }

    [Fact]
    public async Task EveryRequestUsesThePinnedServiceVersion()
    {
        var versions = new VersionRecorder();
        BlobClientOptions options = BlobArtifactStore.CreateClientOptions();
        options.AddPolicy(versions, HttpPipelinePosition.PerRetry);
        var service = new BlobServiceClient(azurite.ConnectionString, options);
        var store = new BlobArtifactStore(service.GetBlobContainerClient(_containerName), SmallBlocks);

        await store.WriteAsync("runs/r1/reports/report.json", Utf8("{}"), default);
        await store.WriteAsync("runs/r1/features/big.bin", new PatternStream(2 * SmallBlocks.BlockSizeBytes + 1, seed: 2), default);
        await store.ListAsync("runs", default);

        Assert.NotEmpty(versions.Seen);
        Assert.All(versions.Seen, version => Assert.Equal("2025-11-05", version));
    }

    [Fact]
    public async Task ContainerIsCreatedByTheFirstWrite()
    {
        Assert.False((await Container.ExistsAsync()).Value);
        Assert.Empty(await Store.ListAsync("", default));
        Assert.Null(await Store.GetPropertiesAsync("runs/r1/a.bin", default));

        await Store.WriteAsync("runs/r1/a.bin", Utf8("a"), default);

        Assert.True((await Container.ExistsAsync()).Value);
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
