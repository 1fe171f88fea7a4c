namespace FeatureAug.Workflow.Storage;

/// <summary>
/// Builds and validates artifact paths. Every path an <see cref="IArtifactStore"/> accepts is a
/// '/'-separated list of segments; each segment is checked here before any storage call, so a run id
/// or model name taken from user input can never climb out of its folder or smuggle in a separator.
/// The layout is documented in docs/storage-layout.md.
/// </summary>
public static class ArtifactPath
{
    /// <summary>Longest run id, model name or dataset name (fits a DNS label, a blob prefix and any file system).</summary>
    public const int MaxIdentifierLength = 63;

    /// <summary>Longest single path segment (a file name), the common file-system limit.</summary>
    public const int MaxSegmentLength = 255;

    /// <summary>Longest whole path; well under the 1,024-character blob name limit.</summary>
    public const int MaxPathLength = 1000;

    public const string DatasetsRoot = "datasets";
    public const string RunsRoot = "runs";
    public const string ModelsRoot = "models";

    /// <summary>The top-level folders of the layout; the blob store keeps each in its own container and accepts no others.</summary>
    public static IReadOnlyList<string> Roots { get; } = [DatasetsRoot, RunsRoot, ModelsRoot];

    /// <summary><c>datasets/&lt;name&gt;</c>.</summary>
    public static string Dataset(string datasetName) =>
        $"{DatasetsRoot}/{ValidateIdentifier(datasetName, "dataset name")}";

    /// <summary><c>runs/&lt;id&gt;</c>; everything below it is laid out by <see cref="RunLayout"/>.</summary>
    public static string Run(string runId) => $"{RunsRoot}/{ValidateIdentifier(runId, "run id")}";

    /// <summary><c>models/&lt;name&gt;</c>.</summary>
    public static string Model(string modelName) => $"{ModelsRoot}/{ValidateIdentifier(modelName, "model name")}";

    /// <summary><c>models/&lt;name&gt;/champion.json</c>: the pointer updated only by conditional writes.</summary>
    public static string ModelChampion(string modelName) => Model(modelName) + "/champion.json";

    /// <summary><c>models/&lt;name&gt;/history</c>: one record per promotion, kept for rollback.</summary>
    public static string ModelHistory(string modelName) => Model(modelName) + "/history";

    /// <summary><c>models/&lt;name&gt;/heads</c>: classifier heads the champion pointer refers to.</summary>
    public static string ModelHeads(string modelName) => Model(modelName) + "/heads";

    /// <summary><c>models/&lt;name&gt;/backbones</c>: backbone checkpoints registered for the model.</summary>
    public static string ModelBackbones(string modelName) => Model(modelName) + "/backbones";

    /// <summary>Joins a validated directory path and further segments (file names or sub-folders), validating each.</summary>
    public static string Combine(string directory, params string[] segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var parts = new List<string>(segments.Length + 1) { Validate(directory, nameof(directory)) };
        foreach (string segment in segments)
        {
            ValidateSegment(segment, MaxSegmentLength, "path segment", nameof(segments));
            parts.Add(segment);
        }
        return Validate(string.Join('/', parts), nameof(segments));
    }

    /// <summary>
    /// Checks a run id, model name or dataset name: 1 to <see cref="MaxIdentifierLength"/> ASCII letters,
    /// digits, '-', '_' or '.', starting with a letter or digit, not ending with '.', and without "..".
    /// Returns the value unchanged.
    /// </summary>
    /// <param name="value">The identifier to check.</param>
    /// <param name="kind">What it is, for the message ("run id", "model name", "dataset name").</param>
    /// <exception cref="ArgumentException">The identifier breaks a rule; the message says which.</exception>
    public static string ValidateIdentifier(string value, string kind)
    {
        ValidateSegment(value, MaxIdentifierLength, kind, kind);
        return value;
    }

    /// <summary>Whether <paramref name="value"/> passes <see cref="ValidateIdentifier"/>.</summary>
    public static bool IsValidIdentifier(string? value) =>
        value is not null && DescribeSegmentProblem(value, MaxIdentifierLength) is null;

    /// <summary>
    /// Why <paramref name="value"/> is not a usable run id, model or data set name ("'a/b' is invalid: it contains a
    /// path separator '/' at position 1."), or null when it is one.
    /// </summary>
    public static string? IdentifierProblem(string? value)
    {
        if (value is null) return "is missing.";
        string? problem = DescribeSegmentProblem(value, MaxIdentifierLength);
        return problem is null ? null : $"'{Printable(value)}' is invalid: {problem}.";
    }

    /// <summary>
    /// Checks a whole artifact path ("runs/r1/checkpoints/epoch-0003.pt"): segments joined by single '/',
    /// no leading or trailing '/', each segment following the identifier rules with up to
    /// <see cref="MaxSegmentLength"/> characters, and at most <see cref="MaxPathLength"/> characters in all.
    /// Returns the path unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">The path breaks a rule; the message says which.</exception>
    public static string Validate(string path, string parameterName = "path")
    {
        if (path is null)
            throw new ArgumentNullException(parameterName, "Artifact path is missing.");
        if (path.Length == 0)
            throw new ArgumentException("Artifact path is empty.", parameterName);
        if (path.Length > MaxPathLength)
            throw new ArgumentException(
                $"Artifact path '{Printable(path[..40])}...' has {path.Length} characters; the limit is {MaxPathLength}.",
                parameterName);
        foreach (string segment in path.Split('/'))
            ValidateSegment(segment, MaxSegmentLength, $"segment of artifact path '{Printable(path)}'", parameterName);
        return path;
    }

    /// <summary>
    /// Checks a prefix for listing: either empty (everything) or a valid path.
    /// </summary>
    public static string ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        return prefix.Length == 0 ? prefix : Validate(prefix, parameterName);
    }

    private static void ValidateSegment(string? value, int maxLength, string kind, string parameterName)
    {
        if (value is null)
            throw new ArgumentNullException(parameterName, $"The {kind} is missing.");
        string? problem = DescribeSegmentProblem(value, maxLength);
        if (problem is not null)
            throw new ArgumentException($"Invalid {kind} '{Printable(value)}': {problem}.", parameterName);
    }

    /// <summary>The first rule <paramref name="value"/> breaks, or null when it is a valid segment.</summary>
    private static string? DescribeSegmentProblem(string value, int maxLength)
    {
        if (value.Length == 0)
            return "it is empty (paths may not start or end with '/' or contain '//')";
        if (value.Length > maxLength)
            return $"it has {value.Length} characters; the limit is {maxLength}";
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c == '/' || c == '\\')
                return $"it contains a path separator '{c}' at position {i}";
            if (char.IsControl(c))
                return $"it contains the control character U+{(int)c:X4} at position {i}";
            if (!IsAllowedChar(c))
                return $"it contains '{c}' at position {i}; only ASCII letters, digits, '-', '_' and '.' are allowed";
        }
        if (value.Contains("..", StringComparison.Ordinal))
            return "it contains \"..\"";
        if (!char.IsAsciiLetterOrDigit(value[0]))
            return "it must start with a letter or digit";
        if (value[^1] == '.')
            return "it may not end with '.'";
        return null;
    }

    private static bool IsAllowedChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    /// <summary>Renders control characters visibly so an error message cannot be garbled by them.</summary>
    private static string Printable(string value)
    {
        var builder = new System.Text.StringBuilder(value.Length);
        foreach (char c in value)
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return builder.ToString();
    }
}
