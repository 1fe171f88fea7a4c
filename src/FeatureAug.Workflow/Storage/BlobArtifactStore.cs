using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace FeatureAug.Workflow.Storage;

/// <summary>Tuning of <see cref="BlobArtifactStore"/> uploads.</summary>
public sealed record BlobArtifactStoreOptions
{
    /// <summary>
    /// Size of each staged block, and the most an upload holds in memory per block in flight. Content that
    /// fits in one block goes up in a single request.
    /// </summary>
    public int BlockSizeBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>How many blocks of one upload may be in flight at once.</summary>
    public int MaxConcurrentBlockUploads { get; init; } = 4;

    internal void Validate()
    {
        // 4000 MiB is the service's block size limit; 64 KiB keeps block counts under the 50,000 limit for sane files.
        if (BlockSizeBytes is < 64 * 1024 or > 1024 * 1024 * 1024)
            throw new ArgumentOutOfRangeException(nameof(BlockSizeBytes), BlockSizeBytes,
                "BlockSizeBytes must be between 64 KiB and 1 GiB.");
        if (MaxConcurrentBlockUploads is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentBlockUploads), MaxConcurrentBlockUploads,
                "MaxConcurrentBlockUploads must be between 1 and 64.");
    }
}

/// <summary>
/// An <see cref="IArtifactStore"/> on Azure Blob Storage with one container per top-level folder of the
/// layout (see docs/storage-layout.md): artifact "runs/r1/checkpoints/a" is the block blob "r1/checkpoints/a"
/// in container "runs", and likewise for "datasets" and "models", each container name optionally carrying
/// a prefix ("dev-" gives "dev-runs"). Other top-level folders are refused. Content that fits in one block
/// is uploaded in a single Put Blob; larger content is staged block by block and committed with one Put
/// Block List, so readers never see a partial version. The SHA-256 is computed while streaming and
/// committed as the blob's "sha256" metadata together with the content. Conditional writes use If-Match /
/// If-None-Match: * on that single committing request.
/// </summary>
public sealed class BlobArtifactStore : IArtifactStore
{
    /// <summary>
    /// The REST API version every request uses. Pinned so a newer SDK cannot start sending a version the
    /// storage emulator (Azurite) does not know yet; 2025-11-05 is served by Azure and by Azurite 3.35.
    /// </summary>
    public const BlobClientOptions.ServiceVersion PinnedServiceVersion = BlobClientOptions.ServiceVersion.V2025_11_05;

    /// <summary>The top-level folders of the layout, each stored in the container of the same name (plus prefix).</summary>
    public static IReadOnlyList<string> Roots => ArtifactPath.Roots;

    internal const string Sha256MetadataKey = "sha256";

    private readonly BlobArtifactStoreOptions _options;
    private readonly BlobContainerClient[] _containers;
    private readonly SemaphoreSlim _containerGate = new(1, 1);
    // One flag per entry of Roots: set once that container is known to exist.
    private readonly bool[] _containerReady;

    /// <summary>
    /// Creates a store on the account of <paramref name="service"/>. The containers
    /// <paramref name="containerPrefix"/> + datasets / runs / models are created on the first write to each if missing.
    /// </summary>
    /// <param name="service">The account; its client options (see <see cref="CreateClientOptions"/>) apply to every request.</param>
    /// <param name="containerPrefix">
    /// Put in front of every container name ("" in production; "dev-" gives dev-datasets, dev-runs, dev-models),
    /// so several stores can share one account.
    /// </param>
    /// <param name="options">Upload tuning.</param>
    /// <exception cref="ArgumentException">A resulting container name breaks Azure's naming rules.</exception>
    public BlobArtifactStore(BlobServiceClient service, string containerPrefix = "", BlobArtifactStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(containerPrefix);
        _options = options ?? new BlobArtifactStoreOptions();
        _options.Validate();
        Service = service;
        ContainerPrefix = containerPrefix;
        _containers = Roots.Select(root => service.GetBlobContainerClient(ContainerName(containerPrefix, root))).ToArray();
        _containerReady = new bool[Roots.Count];
    }

    /// <summary>The storage account.</summary>
    public BlobServiceClient Service { get; }

    /// <summary>The prefix of every container name ("" unless the store shares its account with others).</summary>
    public string ContainerPrefix { get; }

    public string Description =>
        $"blob {Service.Uri} (containers {string.Join(", ", _containers.Select(container => container.Name))})";

    /// <summary>
    /// The container name for top-level folder <paramref name="root"/> ("datasets", "runs" or "models") under
    /// <paramref name="containerPrefix"/>, checked against Azure's rules so a bad prefix fails before any request.
    /// </summary>
    /// <exception cref="ArgumentException">The root is not one of <see cref="Roots"/>, or the name is not a valid container name.</exception>
    public static string ContainerName(string containerPrefix, string root)
    {
        ArgumentNullException.ThrowIfNull(containerPrefix);
        if (IndexOfRoot(root) < 0)
            throw new ArgumentException(
                $"'{root}' is not a container of the blob artifact store; the containers are {string.Join(", ", Roots)}.", nameof(root));
        string name = containerPrefix + root;
        bool valid = name.Length <= 63
            && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && char.IsAsciiLetterOrDigit(name[0])
            && !name.Contains("--", StringComparison.Ordinal);
        if (!valid)
            throw new ArgumentException(
                $"Container prefix '{containerPrefix}' gives container name '{name}', which is not a valid blob container name: " +
                "the prefix may hold only lower-case letters, digits and single hyphens, must start with a letter or digit, " +
                $"and may have at most {63 - root.Length} characters here.",
                nameof(containerPrefix));
        return name;
    }

    /// <summary>The container holding top-level folder <paramref name="root"/> ("datasets", "runs" or "models").</summary>
    /// <exception cref="ArgumentException"><paramref name="root"/> is not one of <see cref="Roots"/>.</exception>
    public BlobContainerClient GetContainer(string root)
    {
        int index = IndexOfRoot(root);
        if (index < 0)
            throw new ArgumentException(
                $"'{root}' is not a container of the blob artifact store; the containers are {string.Join(", ", Roots)}.", nameof(root));
        return _containers[index];
    }

    /// <summary>Client options with <see cref="PinnedServiceVersion"/> and retries suited to large transfers.</summary>
    public static BlobClientOptions CreateClientOptions()
    {
        var options = new BlobClientOptions(PinnedServiceVersion);
        options.Retry.Mode = Azure.Core.RetryMode.Exponential;
        options.Retry.MaxRetries = 5;
        options.Retry.Delay = TimeSpan.FromMilliseconds(500);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(30);
        // Per-try timeout: one block of up to a few MiB on a slow link, not a whole file.
        options.Retry.NetworkTimeout = TimeSpan.FromMinutes(5);
        return options;
    }

    public async Task<ArtifactReadStream> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        BlobClient blob = BlobOf(path);
        try
        {
            Response<BlobDownloadStreamingResult> response = await blob
                .DownloadStreamingAsync(new BlobDownloadOptions(), cancellationToken).ConfigureAwait(false);
            BlobDownloadDetails details = response.Value.Details;
            var properties = new ArtifactProperties(path, details.ContentLength, details.ETag.ToString(),
                Sha256Of(details.Metadata), details.LastModified);
            return new ArtifactReadStream(response.Value.Content, properties);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            throw new ArtifactNotFoundException(path, exception);
        }
    }

    public async Task<ArtifactProperties> WriteAsync(string path, Stream content, CancellationToken cancellationToken) =>
        await WriteCoreAsync(path, content, condition: null, cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException("An unconditional write cannot lose.");

    public async Task<bool> TryWriteIfMatchAsync(string path, Stream content, WriteCondition condition, CancellationToken cancellationToken) =>
        await WriteCoreAsync(path, content, condition, cancellationToken).ConfigureAwait(false) is not null;

    public async Task<ArtifactProperties?> GetPropertiesAsync(string path, CancellationToken cancellationToken)
    {
        BlobClient blob = BlobOf(path);
        try
        {
            Response<BlobProperties> response = await blob
                .GetPropertiesAsync(conditions: null, cancellationToken).ConfigureAwait(false);
            BlobProperties properties = response.Value;
            return new ArtifactProperties(path, properties.ContentLength, properties.ETag.ToString(),
                Sha256Of(properties.Metadata), properties.LastModified);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return null;
        }
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) =>
        await GetPropertiesAsync(path, cancellationToken).ConfigureAwait(false) is not null;

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        BlobClient blob = BlobOf(path);
        try
        {
            Response<bool> response = await blob
                .DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, cancellationToken)
                .ConfigureAwait(false);
            return response.Value;
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        ArtifactPath.ValidatePrefix(prefix);
        var paths = new List<string>();
        if (prefix.Length == 0)
        {
            for (int i = 0; i < Roots.Count; i++)
                await ListContainerAsync(i, blobPrefix: null, paths, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            int separator = prefix.IndexOf('/', StringComparison.Ordinal);
            string root = separator < 0 ? prefix : prefix[..separator];
            // Whole segments only: "runs/r1" lists blobs named "r1/...", never "r10/...".
            string? blobPrefix = separator < 0 ? null : prefix[(separator + 1)..] + "/";
            await ListContainerAsync(RootIndex(root, prefix), blobPrefix, paths, cancellationToken).ConfigureAwait(false);
        }
        paths.Sort(StringComparer.Ordinal);
        return paths;
    }

    public async Task<LocalArtifactFile> GetLocalFileAsync(string path, string scratchDirectory, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(scratchDirectory);
        string copy = Path.Combine(Path.GetFullPath(scratchDirectory), $"{Guid.NewGuid():N}-{ArtifactFiles.FileNameOf(path)}");
        var properties = await this.DownloadToFileAsync(path, copy, cancellationToken).ConfigureAwait(false);
        return new LocalArtifactFile(copy, properties, isTemporaryCopy: true);
    }

    private async Task<ArtifactProperties?> WriteCoreAsync(
        string path, Stream content, WriteCondition? condition, CancellationToken cancellationToken)
    {
        (int rootIndex, string blobName) = Locate(path);
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanRead)
            throw new ArgumentException($"The content stream for '{path}' is not readable.", nameof(content));
        await EnsureContainerAsync(rootIndex, cancellationToken).ConfigureAwait(false);

        BlockBlobClient blob = _containers[rootIndex].GetBlockBlobClient(blobName);
        BlobRequestConditions? requestConditions = condition switch
        {
            null => null,
            { RequiresAbsence: true } => new BlobRequestConditions { IfNoneMatch = ETag.All },
            { } expected => new BlobRequestConditions { IfMatch = new ETag(expected.ExpectedETag!) },
        };

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int blockSize = _options.BlockSizeBytes;
        byte[]? first = ArrayPool<byte>.Shared.Rent(blockSize);
        try
        {
            int firstLength = await FillAsync(content, first, blockSize, cancellationToken).ConfigureAwait(false);
            hash.AppendData(first, 0, firstLength);
            Response<BlobContentInfo> committed;
            long size;
            if (firstLength < blockSize)
            {
                // All content fits one block: a single Put Blob is atomic by itself.
                size = firstLength;
                committed = await blob.UploadAsync(new MemoryStream(first, 0, firstLength, writable: false),
                    new BlobUploadOptions { Metadata = MetadataFor(hash), Conditions = requestConditions },
                    cancellationToken).ConfigureAwait(false);
            }
            else
            {
                byte[] handedOver = first;
                first = null; // StageBlocksAsync returns it to the pool.
                (var blockIds, size) = await StageBlocksAsync(blob, content, handedOver, hash, cancellationToken).ConfigureAwait(false);
                committed = await blob.CommitBlockListAsync(blockIds,
                    new CommitBlockListOptions { Metadata = MetadataFor(hash), Conditions = requestConditions },
                    cancellationToken).ConfigureAwait(false);
            }
            return new ArtifactProperties(path, size, committed.Value.ETag.ToString(),
                CurrentSha(hash), committed.Value.LastModified);
        }
        catch (RequestFailedException exception)
        {
            if (condition is { } required && await LostRaceAsync(blob, required, exception, cancellationToken).ConfigureAwait(false))
                return null;
            if (exception.ErrorCode == BlobErrorCode.InvalidBlockList)
                throw new IOException(
                    $"Writing artifact '{path}' failed because another writer committed the same blob meanwhile, " +
                    "which discards blocks staged but not yet committed. Write it again.", exception);
            throw;
        }
        finally
        {
            if (first is not null)
                ArrayPool<byte>.Shared.Return(first);
        }
    }

    /// <summary>
    /// Stages <paramref name="first"/> and the rest of <paramref name="content"/> as blocks, up to
    /// <see cref="BlobArtifactStoreOptions.MaxConcurrentBlockUploads"/> at a time, hashing in order.
    /// Takes ownership of <paramref name="first"/> (returns it to the pool).
    /// </summary>
    private async Task<(List<string> BlockIds, long Size)> StageBlocksAsync(
        BlockBlobClient blob, Stream content, byte[] first, IncrementalHash hash, CancellationToken cancellationToken)
    {
        int blockSize = _options.BlockSizeBytes;
        // Block ids are unique to this writer, so concurrent writers of the same blob never mix blocks.
        Guid writer = Guid.NewGuid();
        var blockIds = new List<string>();
        var inFlight = new List<Task>();
        long size = 0;
        byte[]? block = first;
        int length = blockSize;
        try
        {
            while (true)
            {
                string id = BlockId(writer, blockIds.Count);
                blockIds.Add(id);
                size += length;
                inFlight.Add(StageAndReturnAsync(blob, id, block, length, cancellationToken));
                block = null;
                if (inFlight.Count >= _options.MaxConcurrentBlockUploads)
                {
                    Task done = await Task.WhenAny(inFlight).ConfigureAwait(false);
                    inFlight.Remove(done);
                    await done.ConfigureAwait(false);
                }

                block = ArrayPool<byte>.Shared.Rent(blockSize);
                length = await FillAsync(content, block, blockSize, cancellationToken).ConfigureAwait(false);
                if (length == 0)
                    break;
                hash.AppendData(block, 0, length);
            }
            await Task.WhenAll(inFlight).ConfigureAwait(false);
            return (blockIds, size);
        }
        catch
        {
            // Let staged requests finish before their buffers go back to the pool; their errors are secondary.
            try { await Task.WhenAll(inFlight).ConfigureAwait(false); } catch (Exception) { }
            throw;
        }
        finally
        {
            if (block is not null)
                ArrayPool<byte>.Shared.Return(block);
        }
    }

    private static async Task StageAndReturnAsync(BlockBlobClient blob, string blockId, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        try
        {
            await blob.StageBlockAsync(blockId, new MemoryStream(buffer, 0, length, writable: false),
                new BlockBlobStageBlockOptions(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Whether a failed conditional write failed because its condition no longer holds: 412 (ETag changed),
    /// 409 (already exists), 404 (deleted meanwhile under If-Match), or a block list invalidated by another
    /// writer's commit, confirmed by checking the current version.
    /// </summary>
    private static async Task<bool> LostRaceAsync(
        BlockBlobClient blob, WriteCondition condition, RequestFailedException exception, CancellationToken cancellationToken)
    {
        if (exception.Status == 412)
            return true;
        if (exception.Status == 409 && exception.ErrorCode == BlobErrorCode.BlobAlreadyExists)
            return true;
        if (exception.Status == 404 && !condition.RequiresAbsence && exception.ErrorCode == BlobErrorCode.BlobNotFound)
            return true;
        if (exception.ErrorCode != BlobErrorCode.InvalidBlockList)
            return false;
        try
        {
            Response<BlobProperties> now = await blob.GetPropertiesAsync(conditions: null, cancellationToken).ConfigureAwait(false);
            return condition.RequiresAbsence || now.Value.ETag.ToString() != condition.ExpectedETag;
        }
        catch (RequestFailedException missing) when (missing.Status == 404)
        {
            return !condition.RequiresAbsence;
        }
    }

    private async Task EnsureContainerAsync(int rootIndex, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _containerReady[rootIndex]))
            return;
        BlobContainerClient container = _containers[rootIndex];
        await _containerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_containerReady[rootIndex])
                return;
            try
            {
                await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException exception) when (exception.Status == 403)
            {
                // An identity with data access but no right to create containers is fine if the container exists.
                if (!(await container.ExistsAsync(cancellationToken).ConfigureAwait(false)).Value)
                    throw new UnauthorizedAccessException(
                        $"Container '{container.Name}' does not exist and this identity may not create it.", exception);
            }
            Volatile.Write(ref _containerReady[rootIndex], true);
        }
        finally
        {
            _containerGate.Release();
        }
    }

    /// <summary>Appends the artifact paths of the blobs in container <paramref name="rootIndex"/> under <paramref name="blobPrefix"/>.</summary>
    private async Task ListContainerAsync(int rootIndex, string? blobPrefix, List<string> paths, CancellationToken cancellationToken)
    {
        string root = Roots[rootIndex];
        try
        {
            await foreach (BlobItem item in _containers[rootIndex]
                .GetBlobsAsync(new GetBlobsOptions { Prefix = blobPrefix }, cancellationToken).ConfigureAwait(false))
            {
                // Blobs put there by other tools under names no artifact path can have are not artifacts.
                string path = root + "/" + item.Name;
                if (IsValidPath(path))
                    paths.Add(path);
            }
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            // No container yet: nothing was ever written to it.
        }
    }

    /// <summary>The blob holding artifact <paramref name="path"/>, after validating the path.</summary>
    private BlobClient BlobOf(string path)
    {
        (int rootIndex, string blobName) = Locate(path);
        return _containers[rootIndex].GetBlobClient(blobName);
    }

    /// <summary>
    /// Splits a validated artifact path into its container (as an index into <see cref="Roots"/>) and the blob
    /// name inside it: "runs/r1/a.bin" is blob "r1/a.bin" in container runs.
    /// </summary>
    private static (int RootIndex, string BlobName) Locate(string path)
    {
        ArtifactPath.Validate(path);
        int separator = path.IndexOf('/', StringComparison.Ordinal);
        if (separator < 0)
        {
            RootIndex(path, path);
            throw new ArgumentException(
                $"Artifact path '{path}' names a whole container; an artifact lives below it, as in '{path}/<name>'.", nameof(path));
        }
        return (RootIndex(path[..separator], path), path[(separator + 1)..]);
    }

    /// <summary>The index in <see cref="Roots"/> of the first segment of <paramref name="path"/>; throws naming the path when it is no root.</summary>
    private static int RootIndex(string root, string path)
    {
        int index = IndexOfRoot(root);
        if (index >= 0)
            return index;
        throw new ArgumentException(
            $"Artifact path '{path}' starts with '{root}'; the blob artifact store keeps artifacts only under " +
            $"{string.Join("/, ", Roots)}/ (one container each).", nameof(path));
    }

    private static int IndexOfRoot(string? root)
    {
        for (int i = 0; i < Roots.Count; i++)
        {
            if (string.Equals(Roots[i], root, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }

    /// <summary>Reads until <paramref name="buffer"/> holds <paramref name="count"/> bytes or the stream ends.</summary>
    private static async Task<int> FillAsync(Stream content, byte[] buffer, int count, CancellationToken cancellationToken) =>
        await content.ReadAtLeastAsync(buffer.AsMemory(0, count), count, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);

    /// <summary>A fixed-length base64 id: all block ids of a blob must have the same length.</summary>
    private static string BlockId(Guid writer, int index)
    {
        Span<byte> raw = stackalloc byte[20];
        writer.TryWriteBytes(raw);
        BinaryPrimitives.WriteInt32BigEndian(raw[16..], index);
        return Convert.ToBase64String(raw);
    }

    private static string CurrentSha(IncrementalHash hash) => Convert.ToHexStringLower(hash.GetCurrentHash());

    private static Dictionary<string, string> MetadataFor(IncrementalHash hash) =>
        new() { [Sha256MetadataKey] = CurrentSha(hash) };

    private static string? Sha256Of(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(Sha256MetadataKey, out string? value) ? value : null;

    private static bool IsValidPath(string name)
    {
        try
        {
            ArtifactPath.Validate(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
