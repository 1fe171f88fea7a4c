using System.Security.Cryptography;
using FeatureAug.Core.Data;

namespace FeatureAug.Core.Tests.Data;

public class FashionMnistTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>Four small, valid gzip IDX files under the official names: 6 training and 4 test images of 3x3.</summary>
    private static Dictionary<string, byte[]> FakeFiles() => new()
    {
        [FashionMnist.TrainImagesFile] = IdxBytes.Gzip(IdxBytes.Images(6, 3, 3, IdxBytes.ImageId)),
        [FashionMnist.TrainLabelsFile] = IdxBytes.Gzip(IdxBytes.Labels([9, 0, 1, 2, 3, 4])),
        [FashionMnist.TestImagesFile] = IdxBytes.Gzip(IdxBytes.Images(4, 3, 3, (i, p) => (byte)(100 + i))),
        [FashionMnist.TestLabelsFile] = IdxBytes.Gzip(IdxBytes.Labels([5, 6, 7, 8])),
    };

    private static Dictionary<string, string> HashesOf(Dictionary<string, byte[]> files) =>
        files.ToDictionary(entry => entry.Key, entry => Convert.ToHexStringLower(SHA256.HashData(entry.Value)));

    /// <summary>Collects reports synchronously (Progress&lt;T&gt; would post them later to the thread pool).</summary>
    private sealed class RecordingProgress : IProgress<DownloadProgress>
    {
        public List<DownloadProgress> Reports { get; } = new();
        public void Report(DownloadProgress value) { lock (Reports) Reports.Add(value); }
    }

    private FashionMnistOptions DownloadOnly(string baseUrl, IReadOnlyDictionary<string, string> hashes) =>
        new(BaseUrl: baseUrl, CacheDirectory: temp.Combine("cache"), PackageDirectory: null, Sha256: hashes);

    [Fact]
    public async Task DownloadsVerifiesCachesAndReadsTheFourFiles()
    {
        var files = FakeFiles();
        using var server = new LoopbackFileServer(files);
        var progress = new RecordingProgress();
        var fashion = new FashionMnist(DownloadOnly(server.BaseUrl, HashesOf(files)));

        var split = await fashion.LoadAsync(progress);

        Assert.Equal([9, 0, 1, 2, 3, 4], split.Train.Labels);
        Assert.Equal(IdxBytes.Images(6, 3, 3, IdxBytes.ImageId)[16..], split.Train.Pixels);
        Assert.Equal([5, 6, 7, 8], split.Test.Labels);
        Assert.Equal("Ankle boot", split.Train.ClassNames[9]);
        Assert.Equal(FashionMnist.FileNames.Select(name => "/data/" + name), server.RequestedPaths);
        foreach (var (name, bytes) in files)
        {
            Assert.Equal(bytes, File.ReadAllBytes(temp.Combine("cache", name)));
            var reports = progress.Reports.Where(r => r.File == name).ToList();
            Assert.Equal(new DownloadProgress(name, 0, bytes.Length), reports[0]);
            Assert.Equal(new DownloadProgress(name, bytes.Length, bytes.Length), reports[^1]);
        }
        Assert.Equal(4, Directory.GetFiles(temp.Combine("cache")).Length);

        // A second load reads the cache and asks the server for nothing.
        var again = await new FashionMnist(DownloadOnly(server.BaseUrl, HashesOf(files))).LoadAsync();
        Assert.Equal(split.Train.Pixels, again.Train.Pixels);
        Assert.Equal(4, server.RequestedPaths.Count);
    }

    [Fact]
    public async Task HashMismatchDiscardsTheDownloadAndThrows()
    {
        var files = FakeFiles();
        using var server = new LoopbackFileServer(files);
        var hashes = HashesOf(files);
        hashes[FashionMnist.TrainLabelsFile] = new string('0', 64);
        var fashion = new FashionMnist(DownloadOnly(server.BaseUrl, hashes));

        var error = await Assert.ThrowsAsync<DatasetFormatException>(() => fashion.LoadAsync());

        Assert.Equal(server.BaseUrl + FashionMnist.TrainLabelsFile, error.FilePath);
        string actual = Convert.ToHexStringLower(SHA256.HashData(files[FashionMnist.TrainLabelsFile]));
        Assert.Equal($"SHA-256 mismatch: expected {new string('0', 64)}, got {actual}; the download was discarded", error.Problem);
        // The good file before it stays; the bad one leaves neither a target nor a partial file.
        Assert.Equal([temp.Combine("cache", FashionMnist.TrainImagesFile)], Directory.GetFiles(temp.Combine("cache")));
    }

    [Fact]
    public async Task HttpErrorNamesTheUrl()
    {
        var files = FakeFiles();
        var hashes = HashesOf(files);
        files.Remove(FashionMnist.TestImagesFile);
        using var server = new LoopbackFileServer(files);

        var error = await Assert.ThrowsAsync<DatasetFormatException>(
            () => new FashionMnist(DownloadOnly(server.BaseUrl, hashes)).LoadAsync());

        Assert.Equal(server.BaseUrl + FashionMnist.TestImagesFile, error.FilePath);
        Assert.Equal("download failed: HTTP 404 Not Found", error.Problem);
        Assert.Equal(2, Directory.GetFiles(temp.Combine("cache")).Length);
    }

    /// <summary>Cancels the token when the download of a given file starts (its first report).</summary>
    private sealed class CancelOnFile(string file, CancellationTokenSource source) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            if (value.File == file) source.Cancel();
        }
    }

    [Fact]
    public async Task CancellationMidDownloadLeavesNoPartialFiles()
    {
        var files = FakeFiles();
        using var server = new LoopbackFileServer(files);
        using var cancellation = new CancellationTokenSource();
        var fashion = new FashionMnist(DownloadOnly(server.BaseUrl, HashesOf(files)));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => fashion.LoadAsync(new CancelOnFile(FashionMnist.TrainLabelsFile, cancellation), cancellation.Token));

        // The temporary file of the interrupted download is gone; the finished one before it stays.
        Assert.Equal([temp.Combine("cache", FashionMnist.TrainImagesFile)], Directory.GetFiles(temp.Combine("cache")));
    }

    [Fact]
    public async Task PackageFilesAreUsedWithoutDownloading()
    {
        var files = FakeFiles();
        Directory.CreateDirectory(temp.Combine("package"));
        foreach (var (name, bytes) in files) File.WriteAllBytes(temp.Combine("package", name), bytes);
        using var server = new LoopbackFileServer(new Dictionary<string, byte[]>());
        var options = new FashionMnistOptions(server.BaseUrl, temp.Combine("cache"), temp.Combine("package"), HashesOf(files));

        var paths = await new FashionMnist(options).EnsureFilesAsync();

        Assert.Equal(FashionMnist.FileNames.Select(name => temp.Combine("package", name)), paths);
        Assert.Empty(server.RequestedPaths);
    }

    [Fact]
    public async Task UncompressedFilesInTheCacheAreUsed()
    {
        Directory.CreateDirectory(temp.Combine("cache"));
        foreach (var (name, bytes) in FakeFiles())
        {
            using var input = new System.IO.Compression.GZipStream(new MemoryStream(bytes), System.IO.Compression.CompressionMode.Decompress);
            using var output = File.Create(temp.Combine("cache", Path.GetFileNameWithoutExtension(name)));
            input.CopyTo(output);
        }
        using var server = new LoopbackFileServer(new Dictionary<string, byte[]>());

        var split = await new FashionMnist(DownloadOnly(server.BaseUrl, new Dictionary<string, string>())).LoadAsync();

        Assert.Equal(6, split.Train.Count);
        Assert.Empty(server.RequestedPaths);
    }

    [Fact]
    public void OfficialHashTableCoversTheFourFiles()
    {
        Assert.Equal(FashionMnist.FileNames.Order(), FashionMnist.OfficialSha256.Keys.Order());
        Assert.All(FashionMnist.OfficialSha256.Values, hash => Assert.Matches("^[0-9a-f]{64}$", hash));
    }
}
