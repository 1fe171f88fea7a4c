using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Tests.Storage;

public sealed class ArtifactStoreFactoryTests
{
    private const string AzuriteConnectionString =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";

    [Fact]
    public void LocalKindCreatesALocalStoreAtTheRoot()
    {
        string root = Path.Combine(Path.GetTempPath(), "featureaug-factory-" + Guid.NewGuid().ToString("N"));

        var store = Assert.IsType<LocalArtifactStore>(ArtifactStoreFactory.Create(new ArtifactStoreOptions { LocalRoot = root }));

        Assert.Equal(root, store.RootDirectory);
        Assert.False(Directory.Exists(root), "creating a store must not touch the disk");
    }

    [Fact]
    public void LocalKindWithoutRootIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => ArtifactStoreFactory.Create(new ArtifactStoreOptions()));
        Assert.Contains("LocalRoot", error.Message);
    }

    [Fact]
    public void BlobKindWithConnectionStringPrefixesEveryContainer()
    {
        var store = Assert.IsType<BlobArtifactStore>(ArtifactStoreFactory.Create(new ArtifactStoreOptions
        {
            Kind = ArtifactStoreKind.Blob,
            ConnectionString = AzuriteConnectionString,
            ContainerPrefix = "dev-",
        }));

        Assert.Equal("dev-", store.ContainerPrefix);
        Assert.Equal(["dev-datasets", "dev-runs", "dev-models"], BlobArtifactStore.Roots.Select(root => store.GetContainer(root).Name));
        Assert.Equal("devstoreaccount1", store.Service.AccountName);
    }

    [Fact]
    public void BlobKindWithAccountUrlUsesTheUnprefixedContainers()
    {
        var store = Assert.IsType<BlobArtifactStore>(ArtifactStoreFactory.Create(new ArtifactStoreOptions
        {
            Kind = ArtifactStoreKind.Blob,
            AccountUrl = "https://myaccount.blob.core.windows.net",
            ManagedIdentityClientId = "00000000-0000-0000-0000-000000000001",
        }));

        Assert.Equal(new Uri("https://myaccount.blob.core.windows.net/datasets"), store.GetContainer("datasets").Uri);
        Assert.Equal(new Uri("https://myaccount.blob.core.windows.net/runs"), store.GetContainer("runs").Uri);
        Assert.Equal(new Uri("https://myaccount.blob.core.windows.net/models"), store.GetContainer("models").Uri);
    }

    [Theory]
    [InlineData(null, null, null, "", "needs ConnectionString")]
    [InlineData("conn", "https://a.blob.core.windows.net", null, "", "set only one")]
    [InlineData(AzuriteConnectionString, null, "client-id", "", "ManagedIdentityClientId only applies with AccountUrl")]
    [InlineData(null, "not a url", null, "", "is not an absolute http(s) URL")]
    [InlineData(null, "ftp://a.example", null, "", "is not an absolute http(s) URL")]
    [InlineData("Nonsense=1", null, null, "", "ConnectionString is malformed")]
    [InlineData(AzuriteConnectionString, null, null, "Dev-", "Container prefix 'Dev-' gives container name 'Dev-datasets', which is not a valid blob container name")]
    [InlineData(AzuriteConnectionString, null, null, "dev--", "gives container name 'dev--datasets', which is not a valid")]
    [InlineData(AzuriteConnectionString, null, null, "-dev", "gives container name '-devdatasets', which is not a valid")]
    [InlineData(AzuriteConnectionString, null, null, "dev_", "gives container name 'dev_datasets', which is not a valid")]
    // 56 characters + "datasets" is 64, one over the limit; the message says the prefix may have 55.
    [InlineData(AzuriteConnectionString, null, null, "a2345678901234567890123456789012345678901234567890123456", "at most 55 characters")]
    public void BadBlobSettingsAreRejectedByName(string? connectionString, string? accountUrl, string? clientId, string containerPrefix, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => ArtifactStoreFactory.Create(new ArtifactStoreOptions
        {
            Kind = ArtifactStoreKind.Blob,
            ConnectionString = connectionString,
            AccountUrl = accountUrl,
            ManagedIdentityClientId = clientId,
            ContainerPrefix = containerPrefix,
        }));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void OutOfRangeBlockSizeIsRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ArtifactStoreFactory.Create(new ArtifactStoreOptions
        {
            Kind = ArtifactStoreKind.Blob,
            ConnectionString = AzuriteConnectionString,
            Blob = new BlobArtifactStoreOptions { BlockSizeBytes = 1000 },
        }));
        Assert.Contains("BlockSizeBytes", error.Message);
    }
}
