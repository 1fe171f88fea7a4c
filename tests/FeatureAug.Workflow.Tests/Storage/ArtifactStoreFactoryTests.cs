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
    public void BlobKindWithConnectionStringUsesTheConfiguredContainer()
    {
        var store = Assert.IsType<BlobArtifactStore>(ArtifactStoreFactory.Create(new ArtifactStoreOptions
        {
            Kind = ArtifactStoreKind.Blob,
            ConnectionString = AzuriteConnectionString,
            Container = "my-artifacts",
        }));

        Assert.Equal("my-artifacts", store.Container.Name);
        Assert.Equal("devstoreaccount1", store.Container.AccountName);
    }

    [Fact]
    public void BlobKindWithAccountUrlUsesTheDefaultContainer()
    {
        var store = Assert.IsType<BlobArtifactStore>(ArtifactStoreFactory.Create(new ArtifactStoreOptions
        {
            Kind = ArtifactStoreKind.Blob,
            AccountUrl = "https://myaccount.blob.core.windows.net",
            ManagedIdentityClientId = "00000000-0000-0000-0000-000000000001",
        }));

        Assert.Equal(new Uri("https://myaccount.blob.core.windows.net/featureaug"), store.Container.Uri);
    }

    [Theory]
    [InlineData(null, null, null, "featureaug", "needs ConnectionString")]
    [InlineData("conn", "https://a.blob.core.windows.net", null, "featureaug", "set only one")]
    [InlineData(AzuriteConnectionString, null, "client-id", "featureaug", "ManagedIdentityClientId only applies with AccountUrl")]
    [InlineData(null, "not a url", null, "featureaug", "is not an absolute http(s) URL")]
    [InlineData(null, "ftp://a.example", null, "featureaug", "is not an absolute http(s) URL")]
    [InlineData("Nonsense=1", null, null, "featureaug", "ConnectionString is malformed")]
    [InlineData(AzuriteConnectionString, null, null, "Upper", "not a valid blob container name")]
    [InlineData(AzuriteConnectionString, null, null, "ab", "not a valid blob container name")]
    [InlineData(AzuriteConnectionString, null, null, "a--b", "not a valid blob container name")]
    [InlineData(AzuriteConnectionString, null, null, "-ab", "not a valid blob container name")]
    public void BadBlobSettingsAreRejectedByName(string? connectionString, string? accountUrl, string? clientId, string container, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => ArtifactStoreFactory.Create(new ArtifactStoreOptions
        {
            Kind = ArtifactStoreKind.Blob,
            ConnectionString = connectionString,
            AccountUrl = accountUrl,
            ManagedIdentityClientId = clientId,
            Container = container,
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
