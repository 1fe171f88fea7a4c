using System.Buffers;
using System.Security.Cryptography;

namespace FeatureAug.Workflow.Storage;

/// <summary>Streaming helpers both stores share.</summary>
internal static class ArtifactFiles
{
    /// <summary>Copy buffer size: large enough for sequential disk and network throughput, small enough to rent.</summary>
    public const int CopyBufferSize = 1024 * 1024;

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> block by block while hashing it.
    /// </summary>
    /// <returns>The number of bytes copied and their lower-case hex SHA-256.</returns>
    public static async Task<(long Size, string Sha256)> CopyAndHashAsync(
        Stream source, Stream destination, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                total += read;
            }
            return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes <paramref name="artifact"/> to a temporary file beside <paramref name="localFilePath"/>, reading it
    /// to the end (which checks its SHA-256), and only then renames it into place.
    /// </summary>
    public static async Task<ArtifactProperties> SaveVerifiedAsync(
        ArtifactReadStream artifact, string localFilePath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(localFilePath);
        string target = Path.GetFullPath(localFilePath);
        string directory = Path.GetDirectoryName(target)
            ?? throw new ArgumentException($"'{localFilePath}' has no parent directory.", nameof(localFilePath));
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                             bufferSize: 0, FileOptions.Asynchronous))
            {
                await artifact.CopyToAsync(output, CopyBufferSize, cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
            return artifact.Properties;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Opens a file for a streamed upload, with a message naming the file when it is missing.</summary>
    public static FileStream OpenForUpload(string localFilePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(localFilePath);
        if (!File.Exists(localFilePath))
            throw new FileNotFoundException($"Cannot upload '{localFilePath}': the file does not exist.", localFilePath);
        return new FileStream(localFilePath, FileMode.Open, FileAccess.Read, FileShare.Read,
            bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
    }

    /// <summary>The last segment of an artifact path, for naming local copies.</summary>
    public static string FileNameOf(string artifactPath) => artifactPath[(artifactPath.LastIndexOf('/') + 1)..];
}
