using System.Diagnostics;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Tests.Storage;

public sealed class LocalArtifactStoreTests : ArtifactStoreContractTests
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("featureaug-local-store-").FullName;

    private string Root => Path.Combine(_scratch, "artifacts");

    private LocalArtifactStore Local => (LocalArtifactStore)Store;

    protected override Task<IArtifactStore> CreateEmptyStoreAsync() =>
        Task.FromResult<IArtifactStore>(new LocalArtifactStore(Root));

    protected override Task DeleteStoreAsync()
    {
        Directory.Delete(_scratch, recursive: true);
        return Task.CompletedTask;
    }

    protected override Task CorruptBehindTheStoreAsync(string path, byte[] replacement)
    {
        // Keep the file time too, so only the content differs from what the store recorded.
        string file = Local.GetFilePath(path);
        DateTime lastWrite = File.GetLastWriteTimeUtc(file);
        File.WriteAllBytes(file, replacement);
        File.SetLastWriteTimeUtc(file, lastWrite);
        return Task.CompletedTask;
    }

    protected override (IArtifactStore Store, Func<bool> StorageWasTouched) CreateStoreWithoutStorage()
    {
        string root = Path.Combine(_scratch, "never-created");
        return (new LocalArtifactStore(root), () => Directory.Exists(root));
    }

    [Fact]
    public async Task LocalFileIsTheStoredFileItselfWithoutACopy()
    {
        await Store.WriteAsync("runs/r1/checkpoints/epoch-0001.pt", Utf8("weights"), default);

        using LocalArtifactFile local = await Store.GetLocalFileAsync("runs/r1/checkpoints/epoch-0001.pt", _scratch, default);

        Assert.False(local.IsTemporaryCopy);
        Assert.Equal(Path.Combine(Root, "runs", "r1", "checkpoints", "epoch-0001.pt"), local.FilePath);
        Assert.Equal(local.FilePath, Local.GetFilePath("runs/r1/checkpoints/epoch-0001.pt"));
    }

    [Fact]
    public async Task ConditionalWriteWaitsWhileAnotherProcessHoldsThePathLock()
    {
        const string path = "models/m1/champion.json";
        ArtifactProperties current = await Store.WriteAsync(path, Utf8("v1"), default);
        string lockFile = Path.Combine(Root, ".artifact-meta", "models", "m1", "champion.json.lock");
        Assert.True(File.Exists(lockFile), $"expected the documented lock file at {lockFile}");

        // flock(1) takes the same advisory lock the store takes, from a separate process.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", lockFile, "sleep", "1.5"])
        {
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("could not start flock(1)");
        await WaitUntilLockedAsync(lockFile);

        var clock = Stopwatch.StartNew();
        bool won = await Store.TryWriteIfMatchAsync(path, Utf8("v2"), WriteCondition.IfMatch(current.ETag), default);
        clock.Stop();

        Assert.True(won);
        Assert.True(holder.HasExited, "the write finished while the other process still held the lock");
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(0.5), $"the write waited only {clock.Elapsed}");
        Assert.Equal("v2", System.Text.Encoding.UTF8.GetString(await ReadAllAsync(path)));
    }

    [Fact]
    public async Task TwoStoresOnOneRootShareVersionsAndConditions()
    {
        var other = new LocalArtifactStore(Root);
        ArtifactProperties written = await Store.WriteAsync("models/m1/champion.json", Utf8("v1"), default);

        Assert.Equal(written.ETag, (await other.GetPropertiesAsync("models/m1/champion.json", default))!.ETag);
        Assert.True(await other.TryWriteIfMatchAsync("models/m1/champion.json", Utf8("v2"), WriteCondition.IfMatch(written.ETag), default));
        Assert.False(await Store.TryWriteIfMatchAsync("models/m1/champion.json", Utf8("v3"), WriteCondition.IfMatch(written.ETag), default));
    }

    [Fact]
    public async Task TruncatedFileIsDetectedWhenRead()
    {
        const string path = "runs/r1/checkpoints/epoch-0004.pt";
        await Store.WriteAsync(path, new MemoryStream(PatternStream.Bytes(100_000, seed: 21)), default);
        using (var file = new FileStream(Local.GetFilePath(path), FileMode.Open, FileAccess.Write))
            file.SetLength(60_000);

        var error = await Assert.ThrowsAsync<ArtifactIntegrityException>(() => ReadAllAsync(path));
        Assert.Contains("SHA-256", error.Message);
    }

    [Fact]
    public async Task FilePlacedByHandHasNoChecksumButAStableETag()
    {
        string file = Path.Combine(Root, "datasets", "d1", "train-images.idx");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllBytesAsync(file, [1, 2, 3, 4]);

        ArtifactProperties? first = await Store.GetPropertiesAsync("datasets/d1/train-images.idx", default);
        ArtifactProperties? second = await Store.GetPropertiesAsync("datasets/d1/train-images.idx", default);

        Assert.NotNull(first);
        Assert.Null(first.Sha256);
        Assert.Equal(4, first.Size);
        Assert.Equal(first.ETag, second!.ETag);
        Assert.Equal(["datasets/d1/train-images.idx"], await Store.ListAsync("datasets", default));
        Assert.True(await Store.TryWriteIfMatchAsync("datasets/d1/train-images.idx", Utf8("new"), WriteCondition.IfMatch(first.ETag), default));
        Assert.Equal(Sha256Hex("new"u8.ToArray()), (await Store.GetPropertiesAsync("datasets/d1/train-images.idx", default))!.Sha256);
    }

    [Fact]
    public async Task FailedWriteLeavesNoTemporaryFiles()
    {
        await Store.WriteAsync("runs/r1/a.bin", Utf8("a"), default);
        var failing = new PatternStream(3_000_000, seed: 1, interruptAfter: 1_000_000, interrupt: () => throw new IOException("boom"));

        await Assert.ThrowsAsync<IOException>(() => Store.WriteAsync("runs/r1/b.bin", failing, default));

        Assert.Empty(Directory.GetFiles(Path.Combine(Root, ".artifact-tmp")));
        Assert.False(File.Exists(Local.GetFilePath("runs/r1/b.bin")));
    }

    [Fact]
    public async Task ArtifactUnderAnotherArtifactsNameIsRejectedClearly()
    {
        await Store.WriteAsync("runs/r1/report", Utf8("a file"), default);

        var error = await Assert.ThrowsAsync<IOException>(() => Store.WriteAsync("runs/r1/report/part.json", Utf8("{}"), default));
        Assert.Contains("runs/r1/report/part.json", error.Message);
    }

    private static async Task WaitUntilLockedAsync(string lockFile)
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                return;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException("flock(1) did not take the lock within 2 s");
    }
}
