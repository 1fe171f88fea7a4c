namespace FeatureAug.Workflow.Storage;

/// <summary>What a store knows about one stored artifact.</summary>
/// <param name="Path">The artifact path ("runs/r1/reports/report.json").</param>
/// <param name="Size">Length of the content in bytes.</param>
/// <param name="ETag">
/// Opaque version token; changes on every write. Pass it to
/// <see cref="IArtifactStore.TryWriteIfMatchAsync"/> to replace exactly this version.
/// </param>
/// <param name="Sha256">
/// Lower-case hex SHA-256 of the content, recorded when the store wrote it; null for content the store
/// did not write itself (a file copied into a local root by hand, a blob uploaded by another tool).
/// </param>
/// <param name="LastModified">When this version was written.</param>
public sealed record ArtifactProperties(
    string Path,
    long Size,
    string ETag,
    string? Sha256,
    DateTimeOffset LastModified);

/// <summary>The precondition of a conditional write.</summary>
public readonly record struct WriteCondition
{
    private WriteCondition(string? expectedETag) => ExpectedETag = expectedETag;

    /// <summary>The ETag the current version must have; null means the artifact must not exist.</summary>
    public string? ExpectedETag { get; }

    /// <summary>True for <see cref="IfNotExists"/>.</summary>
    public bool RequiresAbsence => ExpectedETag is null;

    /// <summary>Write only if nothing is stored at the path yet.</summary>
    public static WriteCondition IfNotExists => default;

    /// <summary>Write only if the stored version still has <paramref name="etag"/>.</summary>
    public static WriteCondition IfMatch(string etag)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(etag);
        return new WriteCondition(etag);
    }

    public override string ToString() => RequiresAbsence ? "if-not-exists" : $"if-match {ExpectedETag}";
}

/// <summary>Thrown when a read targets an artifact that is not stored.</summary>
public sealed class ArtifactNotFoundException : FileNotFoundException
{
    public ArtifactNotFoundException(string artifactPath, Exception? innerException = null)
        : base($"Artifact '{artifactPath}' does not exist.", artifactPath, innerException)
    {
        ArtifactPath = artifactPath;
    }

    /// <summary>The artifact path that was asked for.</summary>
    public string ArtifactPath { get; }
}

/// <summary>
/// Thrown when stored content does not match the SHA-256 or size recorded when it was written:
/// the artifact was truncated or corrupted after the write, and must not be used.
/// </summary>
public sealed class ArtifactIntegrityException : IOException
{
    public ArtifactIntegrityException(string artifactPath, string problem)
        : base($"Artifact '{artifactPath}' is corrupt: {problem}.")
    {
        ArtifactPath = artifactPath;
    }

    /// <summary>The artifact path whose content failed the check.</summary>
    public string ArtifactPath { get; }
}

/// <summary>
/// An artifact available as a file on this machine, for code that reads local paths (TorchSharp
/// checkpoints, feature shards). Dispose it when done: a temporary download is deleted then, a file
/// inside a local store's root is left alone. Treat the file as read-only.
/// </summary>
public sealed class LocalArtifactFile : IDisposable
{
    internal LocalArtifactFile(string filePath, ArtifactProperties properties, bool isTemporaryCopy)
    {
        FilePath = filePath;
        Properties = properties;
        IsTemporaryCopy = isTemporaryCopy;
    }

    /// <summary>Absolute path of the file holding the artifact's content.</summary>
    public string FilePath { get; }

    /// <summary>The version of the artifact this file holds.</summary>
    public ArtifactProperties Properties { get; }

    /// <summary>True when the file is a download that <see cref="Dispose"/> deletes.</summary>
    public bool IsTemporaryCopy { get; }

    public void Dispose()
    {
        if (IsTemporaryCopy)
            File.Delete(FilePath);
    }
}
