using System.Text.Json;

namespace FeatureAug.Workflow.Storage;

/// <summary>
/// An <see cref="IArtifactStore"/> on a local directory. Artifact "a/b/c" is the file
/// <c>&lt;root&gt;/a/b/c</c>; beside the artifacts the store keeps two hidden folders (artifact paths
/// cannot start with '.', so they never collide):
/// <list type="bullet">
/// <item><c>.artifact-meta/a/b/c.meta.json</c>: the version (ETag), size, SHA-256 and file time recorded
/// at write time; <c>.artifact-meta/a/b/c.lock</c>: the lock file that serializes writers of that path.</item>
/// <item><c>.artifact-tmp/</c>: content being written, renamed into place once complete.</item>
/// </list>
/// A write streams into a temporary file, then, holding the path's lock, checks the write condition,
/// records the metadata and renames the file over the old one. The lock is an exclusive open of the
/// lock file (an advisory <c>flock</c> on Linux, a sharing lock on Windows), so it excludes other threads
/// and other processes alike, and the operating system releases it if the holder dies.
/// </summary>
public sealed class LocalArtifactStore : IArtifactStore
{
    private const string MetaFolder = ".artifact-meta";
    private const string TempFolder = ".artifact-tmp";
    private const string MetaSuffix = ".meta.json";
    private const string LockSuffix = ".lock";

    private static readonly JsonSerializerOptions MetaJson = new(JsonSerializerDefaults.Web);

    private readonly string _rootWithSeparator;

    /// <summary>Creates a store rooted at <paramref name="rootDirectory"/> (created on first write).</summary>
    /// <param name="rootDirectory">The directory that holds all artifacts.</param>
    /// <param name="lockTimeout">How long to wait for another writer's lock before giving up; default 2 minutes.</param>
    public LocalArtifactStore(string rootDirectory, TimeSpan? lockTimeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        if (FileLockingDisabled())
            throw new InvalidOperationException(
                "The local artifact store needs .NET file locking to keep concurrent writers apart, but it is " +
                "switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING or System.IO.DisableFileLocking).");
        RootDirectory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDirectory));
        _rootWithSeparator = RootDirectory + Path.DirectorySeparatorChar;
        LockTimeout = lockTimeout ?? TimeSpan.FromMinutes(2);
    }

    /// <summary>Absolute path of the root directory.</summary>
    public string RootDirectory { get; }

    /// <summary>How long an operation waits for a path's lock.</summary>
    public TimeSpan LockTimeout { get; }

    public string Description => $"local {RootDirectory}";

    /// <summary>The file that holds <paramref name="path"/>'s content (whether or not it exists yet).</summary>
    public string GetFilePath(string path) => DataFile(ArtifactPath.Validate(path));

    public async Task<ArtifactReadStream> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        using (await AcquireLockAsync(path, cancellationToken).ConfigureAwait(false))
        {
            FileStream? data = OpenDataOrNull(path, FileOptions.Asynchronous | FileOptions.SequentialScan)
                ?? throw new ArtifactNotFoundException(path);
            try
            {
                var properties = Describe(path, data.Length, File.GetLastWriteTimeUtc(data.SafeFileHandle), ReadMeta(path));
                return new ArtifactReadStream(data, properties);
            }
            catch
            {
                await data.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    public async Task<ArtifactProperties> WriteAsync(string path, Stream content, CancellationToken cancellationToken) =>
        await WriteCoreAsync(path, content, condition: null, cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException("An unconditional write cannot lose.");

    public async Task<bool> TryWriteIfMatchAsync(string path, Stream content, WriteCondition condition, CancellationToken cancellationToken) =>
        await WriteCoreAsync(path, content, condition, cancellationToken).ConfigureAwait(false) is not null;

    public async Task<ArtifactProperties?> GetPropertiesAsync(string path, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        using (await AcquireLockAsync(path, cancellationToken).ConfigureAwait(false))
            return CurrentProperties(path);
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(File.Exists(DataFile(path)));
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        using (await AcquireLockAsync(path, cancellationToken).ConfigureAwait(false))
        {
            string data = DataFile(path);
            bool existed = File.Exists(data);
            if (existed)
                File.Delete(data);
            File.Delete(MetaFile(path));
            return existed;
        }
    }

    public Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        ArtifactPath.ValidatePrefix(prefix);
        string directory = prefix.Length == 0 ? RootDirectory : DataFile(prefix);
        var paths = new List<string>();
        if (Directory.Exists(directory))
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
            foreach (string file in Directory.EnumerateFiles(directory, "*", options))
            {
                cancellationToken.ThrowIfCancellationRequested();
                string relative = Path.GetRelativePath(RootDirectory, file).Replace(Path.DirectorySeparatorChar, '/');
                // Skips the store's own hidden folders and files put there by hand that no path could name.
                if (IsValidPath(relative))
                    paths.Add(relative);
            }
        }
        paths.Sort(StringComparer.Ordinal);
        return Task.FromResult<IReadOnlyList<string>>(paths);
    }

    /// <summary>Returns the file inside the root itself after reading it through once to check its SHA-256.</summary>
    public async Task<LocalArtifactFile> GetLocalFileAsync(string path, string scratchDirectory, CancellationToken cancellationToken)
    {
        await using var artifact = await OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
        await artifact.CopyToAsync(Stream.Null, ArtifactFiles.CopyBufferSize, cancellationToken).ConfigureAwait(false);
        return new LocalArtifactFile(DataFile(path), artifact.Properties, isTemporaryCopy: false);
    }

    private async Task<ArtifactProperties?> WriteCoreAsync(
        string path, Stream content, WriteCondition? condition, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanRead)
            throw new ArgumentException($"The content stream for '{path}' is not readable.", nameof(content));

        string staged = Path.Combine(Directory.CreateDirectory(InternalFolder(TempFolder)).FullName, $"{Guid.NewGuid():N}.tmp");
        try
        {
            // Stream the content outside the lock: only the switch below needs exclusion.
            long size;
            string sha256;
            await using (var output = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                             bufferSize: 0, FileOptions.Asynchronous))
            {
                (size, sha256) = await ArtifactFiles.CopyAndHashAsync(content, output, cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }
            var written = new VersionRecord(Guid.NewGuid().ToString("N"), sha256, size, File.GetLastWriteTimeUtc(staged).Ticks);

            using (await AcquireLockAsync(path, cancellationToken).ConfigureAwait(false))
            {
                // Past this point the switch is not cancelled: a half-done switch would be worse than a late one.
                var meta = ReadMeta(path);
                var current = ResolveCurrent(path, meta);
                if (condition is { } required && !Satisfies(required, current))
                    return null;

                string target = DataFile(path);
                PrepareTargetFolder(path, target);
                // The metadata goes first and remembers the version it replaces, so a crash between the
                // two renames leaves a file that still matches its record (see ResolveCurrent).
                WriteMeta(path, new MetaRecord(written, current?.Record));
                File.Move(staged, target, overwrite: true);
                return ToProperties(path, written);
            }
        }
        finally
        {
            File.Delete(staged);
        }
    }

    private static bool Satisfies(WriteCondition condition, CurrentVersion? current) =>
        condition.RequiresAbsence
            ? current is null
            : current is not null && string.Equals(current.Properties.ETag, condition.ExpectedETag, StringComparison.Ordinal);

    private void PrepareTargetFolder(string path, string target)
    {
        if (Directory.Exists(target))
            throw new IOException(
                $"Cannot write artifact '{path}': it is a folder holding other artifacts in the local store at '{RootDirectory}'.");
        string folder = Path.GetDirectoryName(target)!;
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (IOException exception)
        {
            throw new IOException(
                $"Cannot write artifact '{path}': a parent of it is stored as a file in the local store at '{RootDirectory}'.",
                exception);
        }
    }

    /// <summary>The version on disk now, or null when no file is stored at the path. Call under the path's lock.</summary>
    private CurrentVersion? ResolveCurrent(string path, MetaRecord? meta)
    {
        var file = new FileInfo(DataFile(path));
        if (!file.Exists)
            return null;
        var properties = Describe(path, file.Length, file.LastWriteTimeUtc, meta);
        return new CurrentVersion(properties, MatchingRecord(meta, file.Length, file.LastWriteTimeUtc.Ticks));
    }

    private ArtifactProperties? CurrentProperties(string path) => ResolveCurrent(path, ReadMeta(path))?.Properties;

    /// <summary>
    /// Properties of the file with the given size and time. The record that matches them describes it: the
    /// current one normally, the previous one after a crash between the metadata and the file rename.
    /// A file that matches neither was changed behind the store's back: it gets a version derived from its
    /// size and time, and keeps the recorded SHA-256 so reading it reports the damage. A file without any
    /// record (put there by hand) has no SHA-256.
    /// </summary>
    private static ArtifactProperties Describe(string path, long size, DateTime lastWriteUtc, MetaRecord? meta)
    {
        var record = MatchingRecord(meta, size, lastWriteUtc.Ticks);
        if (record is not null)
            return ToProperties(path, record);
        string untrackedVersion = $"f{size:x}-{lastWriteUtc.Ticks:x}";
        return new ArtifactProperties(path, size, Quote(untrackedVersion), meta?.Current.Sha256,
            new DateTimeOffset(lastWriteUtc, TimeSpan.Zero));
    }

    private static VersionRecord? MatchingRecord(MetaRecord? meta, long size, long lastWriteTicks)
    {
        if (meta is null)
            return null;
        if (meta.Current.Matches(size, lastWriteTicks))
            return meta.Current;
        return meta.Previous is { } previous && previous.Matches(size, lastWriteTicks) ? previous : null;
    }

    private static ArtifactProperties ToProperties(string path, VersionRecord record) =>
        new(path, record.Size, Quote(record.Version), record.Sha256,
            new DateTimeOffset(record.LastWriteTicks, TimeSpan.Zero));

    private static string Quote(string version) => $"\"{version}\"";

    private FileStream? OpenDataOrNull(string path, FileOptions options)
    {
        try
        {
            // FileShare.Delete lets a writer rename a new version over a file that is still being read.
            return new FileStream(DataFile(path), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 0, options);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        catch (UnauthorizedAccessException) when (Directory.Exists(DataFile(path))) { return null; }
    }

    private MetaRecord? ReadMeta(string path)
    {
        string file = MetaFile(path);
        try
        {
            return JsonSerializer.Deserialize<MetaRecord>(File.ReadAllBytes(file), MetaJson);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"The metadata file '{file}' of artifact '{path}' is not valid JSON.", exception);
        }
    }

    private void WriteMeta(string path, MetaRecord meta)
    {
        string file = MetaFile(path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        string staged = Path.Combine(InternalFolder(TempFolder), $"{Guid.NewGuid():N}.meta.tmp");
        try
        {
            using (var output = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(output, meta, MetaJson);
                output.Flush(flushToDisk: true);
            }
            File.Move(staged, file, overwrite: true);
        }
        finally
        {
            File.Delete(staged);
        }
    }

    private async Task<IDisposable> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        string lockFile = InternalFile(MetaFolder, path, LockSuffix);
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        var deadline = DateTime.UtcNow + LockTimeout;
        var delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                // The lock file is never deleted: deleting it would let two holders lock different files.
                return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException exception) when (exception is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                if (DateTime.UtcNow >= deadline)
                    throw new TimeoutException(
                        $"Artifact '{path}' stayed locked by another writer for {LockTimeout.TotalSeconds:0.#} s (lock file '{lockFile}').",
                        exception);
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 50));
        }
    }

    private string DataFile(string validPath) => Contained(Path.Combine(RootDirectory, ToLocal(validPath)));

    private string MetaFile(string validPath) => InternalFile(MetaFolder, validPath, MetaSuffix);

    private string InternalFile(string folder, string validPath, string suffix) =>
        Contained(Path.Combine(RootDirectory, folder, ToLocal(validPath)) + suffix);

    private string InternalFolder(string folder) => Path.Combine(RootDirectory, folder);

    private static string ToLocal(string validPath) => validPath.Replace('/', Path.DirectorySeparatorChar);

    /// <summary>Second line of defence after path validation: nothing resolves outside the root.</summary>
    private string Contained(string file)
    {
        string full = Path.GetFullPath(file);
        if (!full.StartsWith(_rootWithSeparator, StringComparison.Ordinal))
            throw new ArgumentException($"Artifact path resolves to '{full}', outside the store root '{RootDirectory}'.");
        return full;
    }

    private static bool IsValidPath(string path)
    {
        try
        {
            ArtifactPath.Validate(path);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool FileLockingDisabled()
    {
        if (AppContext.TryGetSwitch("System.IO.DisableFileLocking", out bool disabled) && disabled)
            return true;
        string? variable = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
        return variable is not null && (variable == "1" || variable.Equals("true", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>One written version: its ETag value, content hash, and the file's size and time when written.</summary>
    private sealed record VersionRecord(string Version, string Sha256, long Size, long LastWriteTicks)
    {
        public bool Matches(long size, long lastWriteTicks) => Size == size && LastWriteTicks == lastWriteTicks;
    }

    private sealed record MetaRecord(VersionRecord Current, VersionRecord? Previous);

    private sealed record CurrentVersion(ArtifactProperties Properties, VersionRecord? Record);
}
