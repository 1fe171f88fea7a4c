using System.Security.Cryptography;
using System.Text;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IArtifactStore"/> promises, run once per implementation by the
/// subclasses. Each test gets a fresh, empty store.
/// </summary>
public abstract class ArtifactStoreContractTests : IAsyncLifetime
{
    /// <summary>Several blocks of the blob store's test block size, plus a ragged tail.</summary>
    protected const int LargeLength = 6 * 1024 * 1024 + 12_345;

    private IArtifactStore? _store;

    protected IArtifactStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>A new store with nothing in it, private to the current test.</summary>
    protected abstract Task<IArtifactStore> CreateEmptyStoreAsync();

    /// <summary>Removes whatever <see cref="CreateEmptyStoreAsync"/> created.</summary>
    protected abstract Task DeleteStoreAsync();

    /// <summary>
    /// Replaces the stored bytes at <paramref name="path"/> without going through the store, keeping the
    /// SHA-256 recorded for the old content: what disk or transfer corruption looks like.
    /// </summary>
    protected abstract Task CorruptBehindTheStoreAsync(string path, byte[] replacement);

    /// <summary>
    /// A store of the same kind whose backing storage does not exist, and a check of whether an operation
    /// reached the storage anyway (created it, or failed trying to reach it).
    /// </summary>
    protected abstract (IArtifactStore Store, Func<bool> StorageWasTouched) CreateStoreWithoutStorage();

    public async Task InitializeAsync() => _store = await CreateEmptyStoreAsync();

    public Task DisposeAsync() => DeleteStoreAsync();

    [Fact]
    public async Task LargeStreamRoundTripsWithRecordedSha256()
    {
        byte[] expected = PatternStream.Bytes(LargeLength, seed: 7);
        string path = "runs/r1/features/shard-0000.bin";

        ArtifactProperties written = await Store.WriteAsync(path, new PatternStream(LargeLength, seed: 7), default);

        Assert.Equal(LargeLength, written.Size);
        Assert.Equal(Sha256Hex(expected), written.Sha256);
        Assert.Equal(expected, await ReadAllAsync(path));
        ArtifactProperties? stored = await Store.GetPropertiesAsync(path, default);
        Assert.Equal(written with { LastModified = stored!.LastModified }, stored);
    }

    [Fact]
    public async Task EmptyContentRoundTrips()
    {
        ArtifactProperties written = await Store.WriteAsync("runs/r1/reports/empty.txt", new MemoryStream(), default);

        Assert.Equal(0, written.Size);
        Assert.Equal(Sha256Hex([]), written.Sha256);
        Assert.Empty(await ReadAllAsync("runs/r1/reports/empty.txt"));
    }

    [Fact]
    public async Task OpenReadCarriesThePropertiesOfTheVersionRead()
    {
        ArtifactProperties written = await Store.WriteAsync("runs/r1/reports/a.txt", Utf8("first"), default);

        await using ArtifactReadStream stream = await Store.OpenReadAsync("runs/r1/reports/a.txt", default);

        Assert.Equal(written.ETag, stream.Properties.ETag);
        Assert.Equal(5, stream.Properties.Size);
        Assert.Equal(Sha256Hex(Encoding.UTF8.GetBytes("first")), stream.Properties.Sha256);
    }

    [Fact]
    public async Task JsonDocumentRoundTripsWithCamelCaseNames()
    {
        var pointer = new ChampionPointer("run-2024.01_a", 0.8125, ["head-a", "head-b"]);

        ArtifactProperties written = await Store.WriteJsonAsync("models/m1/champion.json", pointer, default);
        VersionedDocument<ChampionPointer>? read = await Store.TryReadJsonAsync<ChampionPointer>("models/m1/champion.json", default);

        Assert.NotNull(read);
        Assert.Equal(pointer.RunId, read.Value.RunId);
        Assert.Equal(pointer.BalancedAccuracy, read.Value.BalancedAccuracy);
        Assert.Equal(pointer.Heads, read.Value.Heads);
        Assert.Equal(written.ETag, read.ETag);
        string raw = Encoding.UTF8.GetString(await ReadAllAsync("models/m1/champion.json"));
        Assert.Contains("\"runId\": \"run-2024.01_a\"", raw);
        Assert.Contains("\"balancedAccuracy\": 0.8125", raw);
    }

    [Fact]
    public async Task MissingJsonDocumentIsNullForTryReadAndNotFoundForRead()
    {
        Assert.Null(await Store.TryReadJsonAsync<ChampionPointer>("models/m1/champion.json", default));
        var missing = await Assert.ThrowsAsync<ArtifactNotFoundException>(
            () => Store.ReadJsonAsync<ChampionPointer>("models/m1/champion.json", default));
        Assert.Equal("models/m1/champion.json", missing.ArtifactPath);
    }

    [Fact]
    public async Task MalformedJsonDocumentIsReportedWithItsPath()
    {
        await Store.WriteAsync("models/m1/champion.json", Utf8("{\"runId\": "), default);

        var error = await Assert.ThrowsAsync<InvalidDataException>(
            () => Store.ReadJsonAsync<ChampionPointer>("models/m1/champion.json", default));
        Assert.Contains("models/m1/champion.json", error.Message);
    }

    [Fact]
    public async Task ListReturnsEverythingBelowAWholePathPrefixInOrdinalOrder()
    {
        foreach (string path in new[] { "runs/r1/sub/b.bin", "runs/r1/a.bin", "runs/r10/c.bin", "models/m1/champion.json", "runs/r1/B.bin" })
            await Store.WriteAsync(path, Utf8(path), default);

        Assert.Equal(["runs/r1/B.bin", "runs/r1/a.bin", "runs/r1/sub/b.bin"], await Store.ListAsync("runs/r1", default));
        Assert.Equal(["runs/r1/sub/b.bin"], await Store.ListAsync("runs/r1/sub", default));
        Assert.Equal(["models/m1/champion.json", "runs/r1/B.bin", "runs/r1/a.bin", "runs/r1/sub/b.bin", "runs/r10/c.bin"],
            await Store.ListAsync("", default));
        Assert.Empty(await Store.ListAsync("datasets", default));
        Assert.Empty(await Store.ListAsync("runs/r1/a.bin", default));
        // A prefix that only has artifacts below it is not itself an artifact.
        Assert.False(await Store.ExistsAsync("runs/r1", default));
        Assert.Null(await Store.GetPropertiesAsync("runs/r1", default));
        await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Store.OpenReadAsync("runs/r1", default));
        Assert.False(await Store.DeleteAsync("runs/r1", default));
        Assert.Equal(3, (await Store.ListAsync("runs/r1", default)).Count);
    }

    [Fact]
    public async Task ExistsGetPropertiesAndDeleteFollowTheArtifact()
    {
        const string path = "runs/r1/checkpoints/epoch-0001.pt";
        Assert.False(await Store.ExistsAsync(path, default));
        Assert.Null(await Store.GetPropertiesAsync(path, default));
        Assert.False(await Store.DeleteAsync(path, default));

        await Store.WriteAsync(path, Utf8("weights"), default);
        Assert.True(await Store.ExistsAsync(path, default));

        Assert.True(await Store.DeleteAsync(path, default));
        Assert.False(await Store.ExistsAsync(path, default));
        Assert.Null(await Store.GetPropertiesAsync(path, default));
        Assert.Empty(await Store.ListAsync("runs", default));
        var missing = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Store.OpenReadAsync(path, default));
        Assert.Equal(path, missing.ArtifactPath);
    }

    [Fact]
    public async Task EveryWriteGetsANewETagEvenWithEqualContent()
    {
        ArtifactProperties first = await Store.WriteAsync("models/m1/champion.json", Utf8("same"), default);
        ArtifactProperties second = await Store.WriteAsync("models/m1/champion.json", Utf8("same"), default);

        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal(second.ETag, (await Store.GetPropertiesAsync("models/m1/champion.json", default))!.ETag);
    }

    [Fact]
    public async Task CreateIfNotExistsSucceedsOnlyOnce()
    {
        Assert.True(await Store.TryWriteIfMatchAsync("models/m1/champion.json", Utf8("first"), WriteCondition.IfNotExists, default));
        Assert.False(await Store.TryWriteIfMatchAsync("models/m1/champion.json", Utf8("second"), WriteCondition.IfNotExists, default));

        Assert.Equal("first", Encoding.UTF8.GetString(await ReadAllAsync("models/m1/champion.json")));
    }

    [Fact]
    public async Task IfMatchWritesOnlyOverTheExpectedVersion()
    {
        ArtifactProperties v1 = await Store.WriteAsync("models/m1/champion.json", Utf8("v1"), default);
        ArtifactProperties v2 = await Store.WriteAsync("models/m1/champion.json", Utf8("v2"), default);

        Assert.False(await Store.TryWriteIfMatchAsync("models/m1/champion.json", Utf8("stale"), WriteCondition.IfMatch(v1.ETag), default));
        Assert.Equal("v2", Encoding.UTF8.GetString(await ReadAllAsync("models/m1/champion.json")));
        Assert.Equal(v2.ETag, (await Store.GetPropertiesAsync("models/m1/champion.json", default))!.ETag);

        Assert.True(await Store.TryWriteIfMatchAsync("models/m1/champion.json", Utf8("v3"), WriteCondition.IfMatch(v2.ETag), default));
        Assert.Equal("v3", Encoding.UTF8.GetString(await ReadAllAsync("models/m1/champion.json")));
    }

    [Fact]
    public async Task IfMatchOnAMissingArtifactLoses()
    {
        ArtifactProperties gone = await Store.WriteAsync("models/m1/champion.json", Utf8("v1"), default);
        await Store.DeleteAsync("models/m1/champion.json", default);

        Assert.False(await Store.TryWriteIfMatchAsync("models/m1/champion.json", Utf8("v2"), WriteCondition.IfMatch(gone.ETag), default));
        Assert.False(await Store.ExistsAsync("models/m1/champion.json", default));
    }

    [Fact]
    public async Task ConcurrentPromotionsWithTheSameETagHaveExactlyOneWinner()
    {
        const string path = "models/m1/champion.json";
        const int promoters = 16;
        await Store.WriteJsonAsync(path, new ChampionPointer("initial", 0.5, []), default);

        for (int round = 0; round < 6; round++)
        {
            VersionedDocument<ChampionPointer> current = (await Store.TryReadJsonAsync<ChampionPointer>(path, default))!;
            bool[] won = await RaceAsync(promoters, promoter => Store.TryWriteJsonIfMatchAsync(path,
                new ChampionPointer($"round{round}-promoter{promoter}", 0.6, []), WriteCondition.IfMatch(current.ETag), default));

            int winner = Assert.Single(Enumerable.Range(0, promoters), promoter => won[promoter]);
            Assert.Equal($"round{round}-promoter{winner}", (await Store.ReadJsonAsync<ChampionPointer>(path, default)).RunId);
        }
    }

    [Fact]
    public async Task ConcurrentCreatesOfAnAbsentArtifactHaveExactlyOneWinner()
    {
        const int creators = 16;
        for (int round = 0; round < 6; round++)
        {
            string path = ArtifactPath.ModelChampion($"m{round}");
            bool[] won = await RaceAsync(creators, creator => Store.TryWriteJsonIfMatchAsync(path,
                new ChampionPointer($"creator{creator}", 0.5, []), WriteCondition.IfNotExists, default));

            int winner = Assert.Single(Enumerable.Range(0, creators), creator => won[creator]);
            Assert.Equal($"creator{winner}", (await Store.ReadJsonAsync<ChampionPointer>(path, default)).RunId);
        }
    }

    [Fact]
    public async Task LargeConditionalWritesCheckTheirConditionToo()
    {
        const string path = "models/m1/heads/head.bin";
        const int length = 2 * 1024 * 1024 + 3;
        ArtifactProperties v1 = await Store.WriteAsync(path, new PatternStream(length, seed: 1), default);
        ArtifactProperties v2 = await Store.WriteAsync(path, new PatternStream(length, seed: 2), default);

        Assert.False(await Store.TryWriteIfMatchAsync(path, new PatternStream(length, seed: 3), WriteCondition.IfMatch(v1.ETag), default));
        Assert.False(await Store.TryWriteIfMatchAsync(path, new PatternStream(length, seed: 4), WriteCondition.IfNotExists, default));
        Assert.Equal(PatternStream.Bytes(length, seed: 2), await ReadAllAsync(path));
        Assert.Equal(v2.ETag, (await Store.GetPropertiesAsync(path, default))!.ETag);

        Assert.True(await Store.TryWriteIfMatchAsync(path, new PatternStream(length, seed: 5), WriteCondition.IfMatch(v2.ETag), default));
        Assert.Equal(PatternStream.Bytes(length, seed: 5), await ReadAllAsync(path));
    }

    [Fact]
    public async Task ConcurrentLargeConditionalWritesHaveExactlyOneWinner()
    {
        const string path = "models/m1/heads/head.bin";
        const int writers = 4;
        const int length = 2 * 1024 * 1024 + 17;
        ArtifactProperties initial = await Store.WriteAsync(path, new PatternStream(length, seed: 100), default);

        bool[] won = await RaceAsync(writers, writer => Store.TryWriteIfMatchAsync(path,
            new PatternStream(length, seed: writer), WriteCondition.IfMatch(initial.ETag), default));

        int winner = Assert.Single(Enumerable.Range(0, writers), writer => won[writer]);
        Assert.Equal(PatternStream.Bytes(length, seed: winner), await ReadAllAsync(path));
    }

    [Fact]
    public async Task WriteThatFailsMidStreamLeavesThePreviousVersion()
    {
        const string path = "runs/r1/checkpoints/last.pt";
        ArtifactProperties previous = await Store.WriteAsync(path, Utf8("good checkpoint"), default);

        var failing = new PatternStream(LargeLength, seed: 3, interruptAfter: 2_500_000,
            interrupt: () => throw new IOException("source went away"));
        var error = await Assert.ThrowsAsync<IOException>(() => Store.WriteAsync(path, failing, default));

        Assert.Equal("source went away", error.Message);
        await AssertUnchangedAsync(path, previous, "good checkpoint");
    }

    [Fact]
    public async Task CancelledWriteLeavesThePreviousVersion()
    {
        const string path = "runs/r1/checkpoints/last.pt";
        ArtifactProperties previous = await Store.WriteAsync(path, Utf8("good checkpoint"), default);
        using var cancellation = new CancellationTokenSource();

        var slow = new PatternStream(LargeLength, seed: 4, interruptAfter: 1_500_000, interrupt: cancellation.Cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.WriteAsync(path, slow, cancellation.Token));

        await AssertUnchangedAsync(path, previous, "good checkpoint");
    }

    [Fact]
    public async Task FailedConditionalWriteLeavesThePreviousVersion()
    {
        const string path = "models/m1/champion.json";
        ArtifactProperties previous = await Store.WriteAsync(path, Utf8("champion"), default);

        var failing = new PatternStream(LargeLength, seed: 5, interruptAfter: 3_000_000,
            interrupt: () => throw new IOException("source went away"));
        await Assert.ThrowsAsync<IOException>(
            () => Store.TryWriteIfMatchAsync(path, failing, WriteCondition.IfMatch(previous.ETag), default));

        await AssertUnchangedAsync(path, previous, "champion");
    }

    [Fact]
    public async Task CorruptedContentIsDetectedWhenReadInFull()
    {
        const string path = "runs/r1/checkpoints/epoch-0002.pt";
        byte[] original = PatternStream.Bytes(300_000, seed: 9);
        await Store.WriteAsync(path, new MemoryStream(original), default);
        byte[] damaged = (byte[])original.Clone();
        damaged[123_456] ^= 0x40;

        await CorruptBehindTheStoreAsync(path, damaged);

        var error = await Assert.ThrowsAsync<ArtifactIntegrityException>(() => ReadAllAsync(path));
        Assert.Equal(path, error.ArtifactPath);
        Assert.Contains("SHA-256", error.Message);
        string target = Path.Combine(Directory.CreateTempSubdirectory("featureaug-download-").FullName, "epoch-0002.pt");
        await Assert.ThrowsAsync<ArtifactIntegrityException>(() => Store.DownloadToFileAsync(path, target, default));
        Assert.False(File.Exists(target), "a corrupt download must not be put in place");
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!));
        Directory.Delete(Path.GetDirectoryName(target)!, recursive: true);
    }

    [Fact]
    public async Task FilesUploadAndDownloadIntact()
    {
        string scratch = Directory.CreateTempSubdirectory("featureaug-files-").FullName;
        try
        {
            byte[] content = PatternStream.Bytes(LargeLength, seed: 11);
            string source = Path.Combine(scratch, "source.bin");
            await File.WriteAllBytesAsync(source, content);

            ArtifactProperties uploaded = await Store.UploadFromFileAsync("runs/r1/fused/class-007.bin", source, default);
            string target = Path.Combine(scratch, "nested", "copy.bin");
            ArtifactProperties downloaded = await Store.DownloadToFileAsync("runs/r1/fused/class-007.bin", target, default);

            Assert.Equal(Sha256Hex(content), uploaded.Sha256);
            Assert.Equal(uploaded.ETag, downloaded.ETag);
            Assert.Equal(content, await File.ReadAllBytesAsync(target));
            Assert.Equal(["copy.bin"], Directory.GetFiles(Path.Combine(scratch, "nested")).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public async Task LocalFileHoldsTheArtifactUntilDisposed()
    {
        string scratch = Directory.CreateTempSubdirectory("featureaug-scratch-").FullName;
        try
        {
            byte[] content = PatternStream.Bytes(200_000, seed: 12);
            ArtifactProperties written = await Store.WriteAsync("runs/r1/checkpoints/epoch-0003.pt", new MemoryStream(content), default);

            string filePath;
            bool temporary;
            using (LocalArtifactFile local = await Store.GetLocalFileAsync("runs/r1/checkpoints/epoch-0003.pt", scratch, default))
            {
                (filePath, temporary) = (local.FilePath, local.IsTemporaryCopy);
                Assert.Equal(content, await File.ReadAllBytesAsync(local.FilePath));
                Assert.Equal(written.ETag, local.Properties.ETag);
            }

            Assert.Equal(!temporary, File.Exists(filePath));
            Assert.Equal(content, await ReadAllAsync("runs/r1/checkpoints/epoch-0003.pt"));
            await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Store.GetLocalFileAsync("runs/r1/checkpoints/none.pt", scratch, default));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    public static TheoryData<string> InvalidPaths() => new()
    {
        "..",
        "runs/../models/m1/champion.json",
        "runs/r1/../../escape",
        "runs/..hidden",
        "/runs/r1",
        "runs/r1/",
        "runs//r1",
        "runs\\r1",
        "runs/r1\\..\\x",
        "runs/r\u00001",
        "runs/r1\n",
        "runs/r\u001b1",
        "runs/" + new string('a', ArtifactPath.MaxSegmentLength + 1),
        "runs/.artifact-meta",
        "runs/r 1",
        "runs/r1.",
        "",
    };

    [Theory]
    [MemberData(nameof(InvalidPaths))]
    public async Task InvalidPathsAreRejectedBeforeAnyStorageCall(string path)
    {
        (IArtifactStore store, Func<bool> storageWasTouched) = CreateStoreWithoutStorage();
        string scratch = Path.Combine(Path.GetTempPath(), "featureaug-never-created-" + Guid.NewGuid().ToString("N"));
        string existingFile = Path.GetTempFileName();
        try
        {
            var operations = new (string Name, Func<Task> Call)[]
            {
                ("OpenRead", () => store.OpenReadAsync(path, default)),
                ("Write", () => store.WriteAsync(path, Utf8("x"), default)),
                ("TryWriteIfMatch", () => store.TryWriteIfMatchAsync(path, Utf8("x"), WriteCondition.IfNotExists, default)),
                ("GetProperties", () => store.GetPropertiesAsync(path, default)),
                ("Exists", () => store.ExistsAsync(path, default)),
                ("Delete", () => store.DeleteAsync(path, default)),
                ("DownloadToFile", () => store.DownloadToFileAsync(path, Path.Combine(scratch, "f"), default)),
                ("UploadFromFile", () => store.UploadFromFileAsync(path, existingFile, default)),
                ("GetLocalFile", () => store.GetLocalFileAsync(path, scratch, default)),
                ("WriteJson", () => store.WriteJsonAsync(path, new ChampionPointer("r", 0, []), default)),
                ("ReadJson", () => store.ReadJsonAsync<ChampionPointer>(path, default)),
            };
            if (path.Length > 0)
                operations = [.. operations, ("List", () => store.ListAsync(path, default))];

            foreach ((string name, Func<Task> call) in operations)
            {
                Exception? error = await Record.ExceptionAsync(call);
                Assert.True(error is ArgumentException, $"{name}({Printable(path)}) should throw ArgumentException, got {error?.GetType().Name ?? "no exception"}: {error?.Message}");
            }
            Assert.False(storageWasTouched(), "an invalid path reached the storage");
            Assert.False(Directory.Exists(scratch), "an invalid path created a local file");
        }
        finally
        {
            File.Delete(existingFile);
        }
    }

    protected async Task<byte[]> ReadAllAsync(string path)
    {
        await using ArtifactReadStream stream = await Store.OpenReadAsync(path, default);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    protected static MemoryStream Utf8(string text) => new(Encoding.UTF8.GetBytes(text));

    protected static string Sha256Hex(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private async Task AssertUnchangedAsync(string path, ArtifactProperties previous, string content)
    {
        Assert.Equal(content, Encoding.UTF8.GetString(await ReadAllAsync(path)));
        Assert.Equal(previous.ETag, (await Store.GetPropertiesAsync(path, default))!.ETag);
        Assert.Equal([path], await Store.ListAsync("", default));
    }

    /// <summary>Runs <paramref name="count"/> attempts on thread-pool threads released together.</summary>
    private static async Task<bool[]> RaceAsync(int count, Func<int, Task<bool>> attempt)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<bool>[] attempts = Enumerable.Range(0, count)
            .Select(i => Task.Run(async () =>
            {
                await start.Task;
                return await attempt(i);
            }))
            .ToArray();
        start.SetResult();
        return await Task.WhenAll(attempts);
    }

    private static string Printable(string value) =>
        string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    /// <summary>A stand-in for the workflow's champion pointer document.</summary>
    public sealed record ChampionPointer(string RunId, double BalancedAccuracy, IReadOnlyList<string> Heads);
}
