using Azure.Identity;
using Azure.Storage.Blobs;

namespace FeatureAug.Workflow.Storage;

/// <summary>Which artifact store to use.</summary>
public enum ArtifactStoreKind
{
    /// <summary>A directory on this machine (<see cref="LocalArtifactStore"/>).</summary>
    Local,

    /// <summary>Azure Blob Storage, containers datasets, runs and models (<see cref="BlobArtifactStore"/>).</summary>
    Blob,
}

/// <summary>Settings for <see cref="ArtifactStoreFactory.Create"/>.</summary>
public sealed record ArtifactStoreOptions
{
    public ArtifactStoreKind Kind { get; init; } = ArtifactStoreKind.Local;

    /// <summary>Root directory of the local store (required for <see cref="ArtifactStoreKind.Local"/>).</summary>
    public string? LocalRoot { get; init; }

    /// <summary>Storage connection string (Azurite, or an account key); excludes <see cref="AccountUrl"/>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>
    /// Blob endpoint of the account ("https://myaccount.blob.core.windows.net"), reached with
    /// DefaultAzureCredential; excludes <see cref="ConnectionString"/>.
    /// </summary>
    public string? AccountUrl { get; init; }

    /// <summary>Client id of the user-assigned managed identity to use with <see cref="AccountUrl"/>.</summary>
    public string? ManagedIdentityClientId { get; init; }

    /// <summary>
    /// Put in front of the blob container names datasets, runs and models: empty (the default, and what the
    /// deployment and its Event Grid subscription expect), or for example "dev-" so several stores share one
    /// account. Lower-case letters, digits and single '-'.
    /// </summary>
    public string ContainerPrefix { get; init; } = "";

    /// <summary>Upload tuning for the blob store.</summary>
    public BlobArtifactStoreOptions Blob { get; init; } = new();
}

/// <summary>Creates the artifact store a configuration asks for.</summary>
public static class ArtifactStoreFactory
{
    /// <summary>
    /// Creates the store described by <paramref name="options"/>. Nothing is contacted yet: each blob
    /// container is created on the first write to it.
    /// </summary>
    /// <exception cref="ArgumentException">A setting the chosen kind needs is missing, conflicting or malformed; the message names it.</exception>
    public static IArtifactStore Create(ArtifactStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Kind switch
        {
            ArtifactStoreKind.Local => CreateLocal(options),
            ArtifactStoreKind.Blob => CreateBlob(options),
            _ => throw new ArgumentException($"Unknown artifact store kind '{options.Kind}'; use Local or Blob.", nameof(options)),
        };
    }

    private static LocalArtifactStore CreateLocal(ArtifactStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.LocalRoot))
            throw new ArgumentException(
                "The local artifact store needs LocalRoot, the directory that holds the artifacts.", nameof(options));
        return new LocalArtifactStore(options.LocalRoot);
    }

    private static BlobArtifactStore CreateBlob(ArtifactStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options.ContainerPrefix, nameof(options.ContainerPrefix));
        foreach (string root in BlobArtifactStore.Roots)
            BlobArtifactStore.ContainerName(options.ContainerPrefix, root); // a bad prefix is reported before any credential problem
        bool hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        bool hasAccountUrl = !string.IsNullOrWhiteSpace(options.AccountUrl);
        if (hasConnectionString == hasAccountUrl)
            throw new ArgumentException(hasConnectionString
                ? "The blob artifact store got both ConnectionString and AccountUrl; set only one."
                : "The blob artifact store needs ConnectionString (for example Azurite's) or AccountUrl (with a managed identity or another Azure credential).",
                nameof(options));

        BlobClientOptions clientOptions = BlobArtifactStore.CreateClientOptions();
        BlobServiceClient service;
        if (hasConnectionString)
        {
            if (!string.IsNullOrWhiteSpace(options.ManagedIdentityClientId))
                throw new ArgumentException(
                    "ManagedIdentityClientId only applies with AccountUrl; a connection string carries its own credentials.",
                    nameof(options));
            try
            {
                service = new BlobServiceClient(options.ConnectionString, clientOptions);
            }
            catch (FormatException exception)
            {
                throw new ArgumentException("The blob artifact store's ConnectionString is malformed.", nameof(options), exception);
            }
        }
        else
        {
            if (!Uri.TryCreate(options.AccountUrl, UriKind.Absolute, out Uri? accountUri)
                || (accountUri.Scheme != Uri.UriSchemeHttps && accountUri.Scheme != Uri.UriSchemeHttp))
                throw new ArgumentException(
                    $"AccountUrl '{options.AccountUrl}' is not an absolute http(s) URL like https://myaccount.blob.core.windows.net.",
                    nameof(options));
            var credentialOptions = new DefaultAzureCredentialOptions();
            if (!string.IsNullOrWhiteSpace(options.ManagedIdentityClientId))
                credentialOptions.ManagedIdentityClientId = options.ManagedIdentityClientId;
            service = new BlobServiceClient(accountUri, new DefaultAzureCredential(credentialOptions), clientOptions);
        }
        return new BlobArtifactStore(service, options.ContainerPrefix, options.Blob);
    }
}
