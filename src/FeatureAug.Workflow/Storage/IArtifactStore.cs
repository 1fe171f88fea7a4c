namespace FeatureAug.Workflow.Storage;

/// <summary>
/// Where runs keep their data sets, checkpoints, features, reports and model pointers: a local directory
/// (<see cref="LocalArtifactStore"/>) or Azure Blob Storage (<see cref="BlobArtifactStore"/>).
/// <para>
/// Paths are '/'-separated and checked by <see cref="ArtifactPath.Validate"/> before any storage call;
/// an invalid one throws <see cref="ArgumentException"/> (the blob store also refuses paths outside
/// datasets/, runs/ and models/, its three containers). Content is streamed in blocks, never buffered
/// whole. Every write is all-or-nothing: readers see the previous version or the new one, and a write
/// that fails or is cancelled leaves the previous version in place. Every write records the content's
/// SHA-256, and every full read (<see cref="OpenReadAsync"/> read to the end,
/// <see cref="ArtifactStoreFiles.DownloadToFileAsync"/>, <see cref="GetLocalFileAsync"/>) checks it, throwing
/// <see cref="ArtifactIntegrityException"/> on a mismatch.
/// </para>
/// </summary>
public interface IArtifactStore
{
    /// <summary>A short description for logs ("local /data/artifacts", "blob http://.../ (containers datasets, runs, models)").</summary>
    string Description { get; }

    /// <summary>Opens the current version for reading. Its properties travel with the stream.</summary>
    /// <exception cref="ArtifactNotFoundException">Nothing is stored at <paramref name="path"/>.</exception>
    Task<ArtifactReadStream> OpenReadAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="content"/> (read from its current position to its end) at
    /// <paramref name="path"/>, replacing any previous version atomically.
    /// </summary>
    Task<ArtifactProperties> WriteAsync(string path, Stream content, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="content"/> only if <paramref name="condition"/> holds at the moment of the
    /// switch: the current version has the expected ETag, or nothing is stored yet. Of several concurrent
    /// writers with the same expectation exactly one succeeds.
    /// </summary>
    /// <returns>True when this write became the current version; false when the condition failed
    /// (someone else wrote first), in which case nothing changed.</returns>
    Task<bool> TryWriteIfMatchAsync(string path, Stream content, WriteCondition condition, CancellationToken cancellationToken);

    /// <summary>The current version's properties, or null when nothing is stored at <paramref name="path"/>.</summary>
    Task<ArtifactProperties?> GetPropertiesAsync(string path, CancellationToken cancellationToken);

    /// <summary>Whether something is stored at <paramref name="path"/>.</summary>
    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken);

    /// <summary>Deletes the artifact; returns false when there was nothing to delete.</summary>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Paths of all artifacts below <paramref name="prefix"/> at any depth, in ordinal order.
    /// The prefix is a whole path ("runs/r1" lists "runs/r1/..." but not "runs/r10/..."); an empty
    /// prefix lists everything.
    /// </summary>
    Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// The artifact as a file on this machine, with its SHA-256 checked. The local store returns the
    /// file inside its root without copying; the blob store downloads into
    /// <paramref name="scratchDirectory"/> and deletes the copy when the result is disposed.
    /// </summary>
    /// <exception cref="ArtifactNotFoundException">Nothing is stored at <paramref name="path"/>.</exception>
    Task<LocalArtifactFile> GetLocalFileAsync(string path, string scratchDirectory, CancellationToken cancellationToken);
}
