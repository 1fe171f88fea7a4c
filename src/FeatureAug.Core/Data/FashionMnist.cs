using System.Security.Cryptography;

namespace FeatureAug.Core.Data;

/// <summary>Progress of one file download: bytes received so far and the size, when the server sent one.</summary>
public sealed record DownloadProgress(string File, long BytesReceived, long? TotalBytes);

/// <summary>Where <see cref="FashionMnist"/> looks for, and fetches, the four data files.</summary>
/// <param name="BaseUrl">Folder URL the four .gz files are downloaded from.</param>
/// <param name="CacheDirectory">Folder that holds (or receives) the files; null means
/// <see cref="FashionMnist.DefaultCacheDirectory"/>. Files already there are used as they are,
/// gzip-compressed or not.</param>
/// <param name="PackageDirectory">Folder of the Debian package dataset-fashion-mnist, used instead of
/// the cache when it holds all four files; null to ignore it.</param>
/// <param name="Sha256">Expected SHA-256 (lower-case hex) of each downloaded .gz file by file name;
/// null means <see cref="FashionMnist.OfficialSha256"/>.</param>
public sealed record FashionMnistOptions(
    string BaseUrl = FashionMnist.OfficialBaseUrl,
    string? CacheDirectory = null,
    string? PackageDirectory = FashionMnist.DebianPackageDirectory,
    IReadOnlyDictionary<string, string>? Sha256 = null);

/// <summary>
/// Fashion-MNIST (Xiao et al. 2017): 60,000 training and 10,000 test images, 28x28 grayscale, 10 classes.
/// Uses the Debian package's files when present, otherwise downloads the official files once into a
/// cache folder, checking each against its SHA-256.
/// </summary>
public sealed class FashionMnist
{
    /// <summary>The official download location (Zalando Research's S3 website).</summary>
    public const string OfficialBaseUrl = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

    /// <summary>Where the Debian package dataset-fashion-mnist installs the files.</summary>
    public const string DebianPackageDirectory = "/usr/share/datasets/fashion-mnist";

    public const string TrainImagesFile = "train-images-idx3-ubyte.gz";
    public const string TrainLabelsFile = "train-labels-idx1-ubyte.gz";
    public const string TestImagesFile = "t10k-images-idx3-ubyte.gz";
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte.gz";

    /// <summary>The four files, in the order they are fetched.</summary>
    public static IReadOnlyList<string> FileNames { get; } = [TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile];

    /// <summary>Class names by label, as in the Fashion-MNIST README.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// SHA-256 of the files served at <see cref="OfficialBaseUrl"/> (the files whose MD5 sums the
    /// Fashion-MNIST README lists). The Debian package recompresses them, so its .gz files hash
    /// differently while holding the same data; package files are therefore not checked against these.
    /// </summary>
    public static IReadOnlyDictionary<string, string> OfficialSha256 { get; } = new Dictionary<string, string>
    {
        [TrainImagesFile] = "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        [TrainLabelsFile] = "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        [TestImagesFile] = "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        [TestLabelsFile] = "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    };

    /// <summary>~/.cache/featureaug/fashion-mnist</summary>
    public static string DefaultCacheDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "featureaug", "fashion-mnist");

    private static readonly HttpClient SharedHttpClient = new() { Timeout = TimeSpan.FromMinutes(10) };

    private readonly FashionMnistOptions options;
    private readonly HttpClient httpClient;

    /// <param name="httpClient">Client for downloads; a shared one when null.</param>
    public FashionMnist(FashionMnistOptions? options = null, HttpClient? httpClient = null)
    {
        this.options = options ?? new FashionMnistOptions();
        this.httpClient = httpClient ?? SharedHttpClient;
    }

    /// <summary>Reads the training and test sets, downloading missing files first.</summary>
    /// <exception cref="DatasetFormatException">A download fails or does not match its SHA-256, or a file is corrupt.</exception>
    public async Task<DatasetSplit> LoadAsync(IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var paths = await EnsureFilesAsync(progress, cancellationToken).ConfigureAwait(false);
        var train = IdxReader.Read(paths[0], paths[1], ClassNames);
        var test = IdxReader.Read(paths[2], paths[3], ClassNames);
        return new DatasetSplit("fashion-mnist", train, test);
    }

    /// <summary>
    /// Paths of the four files (order of <see cref="FileNames"/>): the Debian package's when it holds
    /// all four, otherwise the cache folder's, downloading any that are missing there.
    /// </summary>
    public async Task<IReadOnlyList<string>> EnsureFilesAsync(IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.PackageDirectory is { } packageDir)
        {
            var packaged = FileNames.Select(name => Path.Combine(packageDir, name)).ToArray();
            if (packaged.All(File.Exists))
                return packaged;
        }

        string cacheDir = options.CacheDirectory ?? DefaultCacheDirectory;
        var paths = new string[FileNames.Count];
        for (int i = 0; i < FileNames.Count; i++)
        {
            string name = FileNames[i];
            string compressed = Path.Combine(cacheDir, name);
            string uncompressed = Path.Combine(cacheDir, Path.GetFileNameWithoutExtension(name));
            if (File.Exists(compressed)) paths[i] = compressed;
            else if (File.Exists(uncompressed)) paths[i] = uncompressed;
            else
            {
                await DownloadAsync(name, compressed, progress, cancellationToken).ConfigureAwait(false);
                paths[i] = compressed;
            }
        }
        return paths;
    }

    /// <summary>
    /// Streams the file to a unique temporary name beside the target while hashing it, and renames it
    /// only once the hash matches, so the target path never holds a partial or wrong file.
    /// </summary>
    private async Task DownloadAsync(string name, string targetPath, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var hashes = options.Sha256 ?? OfficialSha256;
        if (!hashes.TryGetValue(name, out var expectedHash))
            throw new ArgumentException($"No SHA-256 is configured for {name}.", nameof(options));

        var url = new Uri(new Uri(options.BaseUrl.EndsWith('/') ? options.BaseUrl : options.BaseUrl + "/"), name);
        Directory.CreateDirectory(Path.GetDirectoryName(targetPath)!);
        string tempPath = $"{targetPath}.{Guid.NewGuid():N}.part";
        try
        {
            string actualHash;
            using (var response = await GetAsync(url, cancellationToken).ConfigureAwait(false))
            {
                long? total = response.Content.Headers.ContentLength;
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 16];
                long received = 0;
                progress?.Report(new DownloadProgress(name, 0, total));
                while (true)
                {
                    int read;
                    try
                    {
                        read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                    }
                    catch (IOException ex)
                    {
                        throw new DatasetFormatException(url.ToString(), $"download interrupted after {received} bytes ({ex.Message})", ex);
                    }
                    if (read == 0) break;
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    received += read;
                    progress?.Report(new DownloadProgress(name, received, total));
                }
                actualHash = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (!string.Equals(actualHash, expectedHash, StringComparison.OrdinalIgnoreCase))
            {
                throw new DatasetFormatException(url.ToString(),
                    $"SHA-256 mismatch: expected {expectedHash.ToLowerInvariant()}, got {actualHash}; the download was discarded");
            }
            File.Move(tempPath, targetPath, overwrite: true);
        }
        finally
        {
            // Reached with the temp file still present only on failure or cancellation.
            File.Delete(tempPath);
        }
    }

    private async Task<HttpResponseMessage> GetAsync(Uri url, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await httpClient.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new DatasetFormatException(url.ToString(), $"download failed ({ex.Message})", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DatasetFormatException(url.ToString(), $"download timed out after {httpClient.Timeout}", ex);
        }
        if (!response.IsSuccessStatusCode)
        {
            using (response)
                throw new DatasetFormatException(url.ToString(), $"download failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        return response;
    }
}
