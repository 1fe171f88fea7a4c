using FeatureAug.Functions.Requests;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Functions.Triggers;

/// <summary>
/// datasets/&lt;name&gt;/dataset.json: describes an uploaded data set and marks it complete. It is uploaded
/// after every file it lists, so its arrival starts one run however many blobs the data set has.
/// Parsed strictly (<see cref="StrictJson"/>): a missing required field or an unknown one is an error
/// naming the field. The format is documented in docs/functions.md.
/// </summary>
public sealed record DatasetManifest
{
    /// <summary>The manifest's file name inside datasets/&lt;name&gt;/.</summary>
    public const string FileName = "dataset.json";

    /// <summary>Formats the readers understand: IDX (MNIST style), CIFAR binary, ImageFolder.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["idx", "cifar", "imagefolder"];

    /// <summary>Must equal the folder name (&lt;name&gt; in datasets/&lt;name&gt;/dataset.json).</summary>
    public required string Name { get; init; }

    /// <summary>idx, cifar or imagefolder.</summary>
    public required string Format { get; init; }

    /// <summary>
    /// The files (or folders, ending in '/') that make up the data set, relative to datasets/&lt;name&gt;/.
    /// Each must exist when the manifest arrives.
    /// </summary>
    public required IReadOnlyList<string> Paths { get; init; }

    /// <summary>Class names in label order (at least 2, distinct). CIFAR needs 10 or 100.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>Image side in pixels. IDX: the stored size; CIFAR: 32; ImageFolder: images are resized to it.</summary>
    public required int ImageSize { get; init; }

    /// <summary>1 (grayscale) or 3 (RGB). IDX is 1, CIFAR 3.</summary>
    public required int Channels { get; init; }

    /// <summary>The registered model this data set trains or rebalances (created when new).</summary>
    public required string ModelName { get; init; }

    /// <summary>Whether the model is rebalanced every night on this data set.</summary>
    public required bool NightlyRebalance { get; init; }

    /// <summary>Backbone architecture (resnet8, resnet20, ...). Required when the model is new; must match a registered model's.</summary>
    public string? Architecture { get; init; }

    /// <summary>full or rebalance; default: rebalance when the model has a champion or a registered backbone, else full.</summary>
    public string? Mode { get; init; }

    /// <summary>
    /// Share of every training class held out as the validation split that chooses each method's configuration and
    /// the promoted head, in [0, 1); default 0.1. An ImageFolder data set with a val/ folder uses that instead.
    /// </summary>
    public double ValFraction { get; init; } = new DatasetReference().ValFraction;

    /// <summary>Parses the manifest, reporting every structural problem in <paramref name="errors"/>; null when there was one.</summary>
    public static DatasetManifest? Parse(ReadOnlySpan<byte> utf8Json, FieldErrors errors) =>
        StrictJson.Parse<DatasetManifest>(utf8Json, errors);

    /// <summary>
    /// Checks the values: the name against the folder it was found in, format, classes, size and channels
    /// against the format, the mode, and each path's syntax. Existence of the paths and the model's
    /// registration are checked by <see cref="DatasetUploadHandler"/>, which has the store.
    /// </summary>
    public void Validate(string folderName, FieldErrors errors)
    {
        if (Name != folderName)
            errors.Add("name", $"'{Name}' differs from the folder the manifest is in (datasets/{folderName}/); they must be equal.");
        if (!Formats.Contains(Format))
            errors.Add("format", $"'{Format}' is not a known format; use one of: {string.Join(", ", Formats)}.");

        if (Classes.Count < 2)
            errors.Add("classes", $"lists {Classes.Count} class(es); classification needs at least 2.");
        for (int i = 0; i < Classes.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Classes[i]))
                errors.Add($"classes[{i}]", "is empty.");
        }
        var duplicates = Classes.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            errors.Add("classes", $"names must be distinct; repeated: {string.Join(", ", duplicates)}.");

        if (ImageSize is < 8 or > 1024)
            errors.Add("imageSize", $"must be between 8 and 1024, got {ImageSize}.");
        if (Channels is not (1 or 3))
            errors.Add("channels", $"must be 1 or 3, got {Channels}.");
        switch (Format)
        {
            case "cifar":
                if (Classes.Count is not (10 or 100))
                    errors.Add("classes", $"CIFAR has 10 or 100 classes, the manifest lists {Classes.Count}.");
                if (ImageSize != 32)
                    errors.Add("imageSize", $"CIFAR images are 32x32, got {ImageSize}.");
                if (Channels != 3)
                    errors.Add("channels", $"CIFAR images have 3 channels, got {Channels}.");
                break;
            case "idx":
                if (Channels != 1)
                    errors.Add("channels", $"IDX images have 1 channel, got {Channels}.");
                break;
        }

        if (!(ValFraction >= 0 && ValFraction < 1))
            errors.Add("valFraction", $"must lie in [0, 1), got {ValFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        if (Mode is not null and not ("full" or "rebalance"))
            errors.Add("mode", $"must be full or rebalance, got '{Mode}'.");
        if (Paths.Count == 0)
            errors.Add("paths", "lists no files; name every file (or folder, ending in '/') of the data set.");
        for (int i = 0; i < Paths.Count; i++)
        {
            string? problem = PathProblem(Paths[i]);
            if (problem is not null)
                errors.Add($"paths[{i}]", problem);
        }
        if (!ArtifactPath.IsValidIdentifier(ModelName))
            errors.Add("modelName", IdentifierProblem(ModelName, "model name"));
    }

    /// <summary>The data set kind the catalog loads for this format (cifar10 / cifar100 by class count).</summary>
    public string CatalogKind => Format switch
    {
        "idx" => "idx",
        "cifar" => Classes.Count == 100 ? "cifar100" : "cifar10",
        "imagefolder" => "imagefolder",
        _ => throw new InvalidOperationException($"Unknown format '{Format}'; call Validate first."),
    };

    /// <summary>The reference a run loads this data set with: the store folder, resized only for ImageFolder.</summary>
    public DatasetReference ToDatasetReference() => new(
        Kind: CatalogKind,
        StoreName: Name,
        ImageSize: Format == "imagefolder" ? ImageSize : null,
        Channels: Channels,
        ValFraction: ValFraction);

    /// <summary>The artifact path a listed entry refers to, without a folder's trailing '/'.</summary>
    public string ArtifactPathOf(string listedPath) =>
        ArtifactPath.Combine(ArtifactPath.Dataset(Name), listedPath.TrimEnd('/').Split('/'));

    private static string? PathProblem(string path)
    {
        if (string.IsNullOrEmpty(path))
            return "is empty.";
        string trimmed = path.EndsWith('/') ? path[..^1] : path;
        try
        {
            ArtifactPath.Validate(trimmed);
        }
        catch (ArgumentException exception)
        {
            return $"'{path}' is not a valid relative path: {exception.Message.Split(" (Parameter", 2)[0]}";
        }
        if (trimmed == FileName)
            return "the manifest itself need not be listed.";
        return null;
    }

    private static string IdentifierProblem(string value, string kind)
    {
        try
        {
            ArtifactPath.ValidateIdentifier(value, kind);
            return "";
        }
        catch (ArgumentException exception)
        {
            return exception.Message.Split(" (Parameter", 2)[0];
        }
    }
}
