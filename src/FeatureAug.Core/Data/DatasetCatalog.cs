using System.Globalization;

namespace FeatureAug.Core.Data;

/// <summary>The data sets the CLI and the workflow can load (CLI names in <see cref="DatasetCatalog.KindName"/>).</summary>
public enum DatasetKind
{
    FashionMnistLt,
    Cifar10Lt,
    Cifar100Lt,
    Idx,
    Cifar10,
    Cifar100,
    ImageFolder,
}

/// <summary>What to load and how to shape it.</summary>
/// <param name="DataDir">Folder with the files. Fashion-MNIST: where to find or download them (null: the
/// Debian package, else ~/.cache/featureaug/fashion-mnist). Required for every other kind.</param>
/// <param name="ImbalanceFactor">n_max / n_min of the long-tailed training set (-lt kinds only).</param>
/// <param name="MaxPerClass">Cap on training images per class, for every kind.</param>
/// <param name="Seed">Seed of <see cref="LongTailSelection.SeededRandom"/>.</param>
/// <param name="ImageSize">Resize to ImageSize x ImageSize (imagefolder only).</param>
/// <param name="Channels">1 (grayscale) or 3 (RGB) (imagefolder only; the other formats fix it).</param>
public sealed record DatasetRequest(
    DatasetKind Kind,
    string? DataDir,
    double ImbalanceFactor = 100,
    ImbalanceProfile Profile = ImbalanceProfile.Exp,
    LongTailSelection Selection = LongTailSelection.FirstInFileOrder,
    int? MaxPerClass = null,
    int Seed = 0,
    int? ImageSize = null,
    int Channels = 3);

/// <summary>Loads a <see cref="DatasetSplit"/> for a <see cref="DatasetRequest"/>.</summary>
public static class DatasetCatalog
{
    private static readonly (DatasetKind Kind, string Name)[] Names =
    [
        (DatasetKind.FashionMnistLt, "fashion-mnist-lt"),
        (DatasetKind.Cifar10Lt, "cifar10-lt"),
        (DatasetKind.Cifar100Lt, "cifar100-lt"),
        (DatasetKind.Idx, "idx"),
        (DatasetKind.Cifar10, "cifar10"),
        (DatasetKind.Cifar100, "cifar100"),
        (DatasetKind.ImageFolder, "imagefolder"),
    ];

    /// <summary>The CLI names, in <see cref="DatasetKind"/> order.</summary>
    public static IReadOnlyList<string> KindNames { get; } = Names.Select(entry => entry.Name).ToArray();

    /// <summary>The kind for a CLI name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static DatasetKind ParseKind(string name)
    {
        foreach (var entry in Names)
        {
            if (string.Equals(entry.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))
                return entry.Kind;
        }
        throw new ArgumentException($"Unknown dataset '{name}'; valid names: {string.Join(", ", KindNames)}.", nameof(name));
    }

    /// <summary>The CLI name of a kind.</summary>
    public static string KindName(DatasetKind kind) =>
        Names.First(entry => entry.Kind == kind).Name;

    /// <summary>
    /// Reads (and for Fashion-MNIST, downloads if needed) the data set. The -lt kinds replace the
    /// training set by its long-tailed subset and keep the balanced test set; MaxPerClass caps the
    /// training set of any kind. The test set is never subsampled.
    /// </summary>
    /// <exception cref="DatasetFormatException">Missing or malformed files.</exception>
    /// <exception cref="ArgumentException">Inconsistent options, e.g. no DataDir where one is needed.</exception>
    public static async Task<DatasetSplit> LoadAsync(
        DatasetRequest request, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ImageSize is not null && request.Kind != DatasetKind.ImageFolder)
            throw new ArgumentException($"ImageSize applies to imagefolder only, not {KindName(request.Kind)}.", nameof(request));

        DatasetSplit balanced = request.Kind switch
        {
            DatasetKind.FashionMnistLt => await LoadFashionMnistAsync(request.DataDir, progress, cancellationToken).ConfigureAwait(false),
            DatasetKind.Cifar10Lt or DatasetKind.Cifar10 => CifarReader.Read(RequireDataDir(request), CifarVariant.Cifar10),
            DatasetKind.Cifar100Lt or DatasetKind.Cifar100 => CifarReader.Read(RequireDataDir(request), CifarVariant.Cifar100),
            DatasetKind.Idx => ReadIdxFolder(RequireDataDir(request)),
            DatasetKind.ImageFolder => ImageFolderReader.Read(RequireDataDir(request), new ImageFolderOptions(request.ImageSize, request.Channels)),
            _ => throw new ArgumentOutOfRangeException(nameof(request), request.Kind, "Unknown dataset kind."),
        };

        bool longTailed = request.Kind is DatasetKind.FashionMnistLt or DatasetKind.Cifar10Lt or DatasetKind.Cifar100Lt;
        ImageDataset train = longTailed
            ? LongTailed.Build(balanced.Train, request.ImbalanceFactor, request.Profile, request.Selection, request.Seed, request.MaxPerClass)
            : request.MaxPerClass is int cap
                ? LongTailed.CapPerClass(balanced.Train, cap, request.Selection, request.Seed)
                : balanced.Train;
        return new DatasetSplit(DescriptiveName(request, longTailed), train, balanced.Test);
    }

    /// <summary>
    /// Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    /// t10k-labels-idx1-ubyte from <paramref name="dir"/>, each with or without a .gz suffix.
    /// </summary>
    public static DatasetSplit ReadIdxFolder(string dir, IReadOnlyList<string>? classNames = null)
    {
        if (!Directory.Exists(dir))
            throw new DatasetFormatException(dir, "folder not found");
        string Find(string stem)
        {
            string raw = Path.Combine(dir, stem);
            if (File.Exists(raw)) return raw;
            string gzip = raw + ".gz";
            if (File.Exists(gzip)) return gzip;
            throw new DatasetFormatException(raw, "file not found (also looked for .gz); an idx folder needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte");
        }

        var train = IdxReader.Read(Find("train-images-idx3-ubyte"), Find("train-labels-idx1-ubyte"), classNames);
        // The test set shares the training classes, so a test label beyond them is reported as out of range.
        var test = IdxReader.Read(Find("t10k-images-idx3-ubyte"), Find("t10k-labels-idx1-ubyte"), classNames ?? train.ClassNames);
        return new DatasetSplit("idx", train, test);
    }

    private static Task<DatasetSplit> LoadFashionMnistAsync(string? dataDir, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        // An explicit folder replaces both the package and the default cache: files are read from it and missing ones downloaded into it.
        var options = dataDir is null
            ? new FashionMnistOptions()
            : new FashionMnistOptions(CacheDirectory: dataDir, PackageDirectory: null);
        return new FashionMnist(options).LoadAsync(progress, cancellationToken);
    }

    private static string RequireDataDir(DatasetRequest request) =>
        request.DataDir ?? throw new ArgumentException($"{KindName(request.Kind)} needs a data folder (DataDir / --data-dir).", nameof(request));

    /// <summary>E.g. "fashion-mnist-lt-if100", "cifar10-lt-step-if50-random-seed3", "cifar100-max50".</summary>
    private static string DescriptiveName(DatasetRequest request, bool longTailed)
    {
        var name = KindName(request.Kind);
        if (longTailed)
        {
            if (request.Profile == ImbalanceProfile.Step) name += "-step";
            name += "-if" + request.ImbalanceFactor.ToString("R", CultureInfo.InvariantCulture);
        }
        if (request.MaxPerClass is int cap) name += "-max" + cap.ToString(CultureInfo.InvariantCulture);
        if ((longTailed || request.MaxPerClass is not null) && request.Selection == LongTailSelection.SeededRandom)
            name += "-random-seed" + request.Seed.ToString(CultureInfo.InvariantCulture);
        return name;
    }
}
