using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Functions.Requests;

/// <summary>
/// Run ids (orchestration instance ids) chosen by the triggers. Ids that must not start a second run for
/// the same cause are derived from that cause, so a repeated event or timer firing attaches to the
/// existing instance (<see cref="RunLauncher.StartOrAttachAsync"/>). Every id passes
/// <see cref="ArtifactPath.ValidateIdentifier"/> (at most 63 characters, letters, digits, '-', '_', '.').
/// </summary>
public static class RunIds
{
    public const string UploadPrefix = "upload-";
    public const string NightlyPrefix = "nightly-";
    public const string ApiPrefix = "run-";

    private const int UploadHashLength = 12;
    private const int NameHashLength = 8;

    /// <summary>
    /// "upload-&lt;dataset&gt;-&lt;12 hex&gt;": the hash covers the data set name and the manifest's ETag, so the
    /// same manifest version always gives the same id and a new upload a new one. A name too long to fit
    /// is shortened; the hash still covers the whole name, so shortened names stay distinct.
    /// </summary>
    public static string ForDatasetUpload(string datasetName, string manifestETag)
    {
        ArtifactPath.ValidateIdentifier(datasetName, "dataset name");
        ArgumentException.ThrowIfNullOrWhiteSpace(manifestETag);
        string hash = Hash(datasetName + "\n" + manifestETag, UploadHashLength);
        int room = ArtifactPath.MaxIdentifierLength - UploadPrefix.Length - 1 - hash.Length;
        return Checked($"{UploadPrefix}{Shorten(datasetName, room)}-{hash}");
    }

    /// <summary>
    /// "nightly-&lt;model&gt;-&lt;yyyyMMdd&gt;" for the UTC day of <paramref name="whenUtc"/>: one rebalance run
    /// per model per day. A model name too long to fit becomes "&lt;prefix&gt;-&lt;8 hex of the whole name&gt;".
    /// </summary>
    public static string ForNightlyRebalance(string modelName, DateTimeOffset whenUtc)
    {
        ArtifactPath.ValidateIdentifier(modelName, "model name");
        string day = whenUtc.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        int room = ArtifactPath.MaxIdentifierLength - NightlyPrefix.Length - 1 - day.Length;
        string model = modelName.Length <= room
            ? modelName
            : $"{Shorten(modelName, room - 1 - NameHashLength)}-{Hash(modelName, NameHashLength)}";
        return Checked($"{NightlyPrefix}{model}-{day}");
    }

    /// <summary>"run-&lt;yyyyMMdd-HHmmss&gt;-&lt;8 random hex&gt;": a fresh id for a run started over HTTP without one.</summary>
    public static string NewForApi(DateTimeOffset nowUtc) =>
        Checked($"{ApiPrefix}{nowUtc.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");

    /// <summary>The first <paramref name="length"/> characters, without a trailing '.', '-' or '_' (a cut must not leave "x.-").</summary>
    private static string Shorten(string name, int length)
    {
        string cut = name.Length <= length ? name : name[..length];
        return cut.TrimEnd('.', '-', '_');
    }

    private static string Hash(string text, int length) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..length];

    private static string Checked(string id) => ArtifactPath.ValidateIdentifier(id, "run id");
}
