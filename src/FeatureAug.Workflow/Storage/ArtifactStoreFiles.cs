namespace FeatureAug.Workflow.Storage;

/// <summary>Local-file transfers of any <see cref="IArtifactStore"/>, written once over its streaming primitives.</summary>
public static class ArtifactStoreFiles
{
    /// <summary>
    /// Copies the artifact into <paramref name="localFilePath"/> (replacing it atomically) and checks its
    /// SHA-256; the file is only put in place once the check passed.
    /// </summary>
    /// <exception cref="ArtifactNotFoundException">Nothing is stored at <paramref name="path"/>.</exception>
    public static async Task<ArtifactProperties> DownloadToFileAsync(
        this IArtifactStore store, string path, string localFilePath, CancellationToken cancellationToken)
    {
        await using var artifact = await store.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
        return await ArtifactFiles.SaveVerifiedAsync(artifact, localFilePath, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores the content of <paramref name="localFilePath"/> at <paramref name="path"/>, like <see cref="IArtifactStore.WriteAsync"/>.</summary>
    public static async Task<ArtifactProperties> UploadFromFileAsync(
        this IArtifactStore store, string path, string localFilePath, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        await using var source = ArtifactFiles.OpenForUpload(localFilePath);
        return await store.WriteAsync(path, source, cancellationToken).ConfigureAwait(false);
    }
}
