using FeatureAug.Functions.Requests;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Functions.Triggers;

/// <summary>What became of one dataset.json upload event.</summary>
public enum UploadOutcomeKind
{
    /// <summary>A new run was scheduled.</summary>
    Started,

    /// <summary>The run for this manifest version already existed (a repeated event); nothing new started.</summary>
    AlreadyStarted,

    /// <summary>The manifest or the data set is invalid; the problems were written next to the manifest.</summary>
    Rejected,

    /// <summary>The manifest was deleted before the event was handled; nothing to do.</summary>
    ManifestGone,
}

/// <summary>The result of <see cref="DatasetUploadHandler.HandleAsync"/>.</summary>
/// <param name="RunId">The run started or attached to; for a rejection, the id the manifest version would have had.</param>
/// <param name="Errors">Field of the manifest to problems (empty unless rejected).</param>
public sealed record UploadOutcome(
    UploadOutcomeKind Kind,
    string DatasetName,
    string? RunId,
    RunMode? Mode,
    IReadOnlyDictionary<string, string[]> Errors);

/// <summary>Written to datasets/&lt;name&gt;/dataset.problems.json when a manifest is rejected, so the uploader can see why.</summary>
public sealed record DatasetUploadProblems(string ManifestETag, DateTimeOffset CheckedUtc, IReadOnlyDictionary<string, string[]> Errors);

/// <summary>
/// Handles the arrival of datasets/&lt;name&gt;/dataset.json: checks the manifest and the files it lists,
/// registers or updates the model it names, and starts one run per manifest version (the run id is
/// derived from the data set name and the manifest's ETag, so a repeated event attaches instead of
/// starting again). A bad manifest is a permanent failure: its problems are written to
/// datasets/&lt;name&gt;/dataset.problems.json and the event completes (retrying cannot fix it). Storage
/// and Durable errors propagate so the trigger retries.
/// </summary>
public sealed class DatasetUploadHandler(
    IArtifactStore store, ModelRegistry registry, DurableTaskClient client, RunDefaults? defaults = null, TimeProvider? time = null)
{
    /// <summary>The file the problems of a rejected manifest are written to, beside it.</summary>
    public const string ProblemsFileName = "dataset.problems.json";

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly RunDefaults _defaults = defaults ?? RunDefaults.Standard;

    /// <summary>
    /// The data set name when <paramref name="blobName"/> (the blob's name inside container datasets, so
    /// artifact datasets/&lt;name&gt;/dataset.json) is exactly &lt;name&gt;/dataset.json with a valid name;
    /// otherwise null and why not. The trigger's pattern {name}/dataset.json also matches deeper names
    /// (its {name} may span '/'), so this is the filter that decides.
    /// </summary>
    public static string? DatasetNameOf(string blobName, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(blobName);
        const string suffix = "/" + DatasetManifest.FileName;
        if (!blobName.EndsWith(suffix, StringComparison.Ordinal) || blobName.Length <= suffix.Length)
        {
            problem = $"blob '{blobName}' in container {ArtifactPath.DatasetsRoot} is not of the form <name>{suffix}.";
            return null;
        }
        string name = blobName[..^suffix.Length];
        try
        {
            ArtifactPath.ValidateIdentifier(name, "dataset name");
        }
        catch (ArgumentException exception)
        {
            problem = exception.Message.Split(" (Parameter", 2)[0];
            return null;
        }
        problem = null;
        return name;
    }

    /// <summary>The manifest's artifact path for a data set.</summary>
    public static string ManifestPath(string datasetName) =>
        ArtifactPath.Combine(ArtifactPath.Dataset(datasetName), DatasetManifest.FileName);

    /// <summary>Where the problems of a rejected manifest go.</summary>
    public static string ProblemsPath(string datasetName) =>
        ArtifactPath.Combine(ArtifactPath.Dataset(datasetName), ProblemsFileName);

    /// <summary>Handles one upload event for data set <paramref name="datasetName"/> (already filtered by <see cref="DatasetNameOf"/>).</summary>
    public async Task<UploadOutcome> HandleAsync(string datasetName, CancellationToken cancellationToken)
    {
        ArtifactPath.ValidateIdentifier(datasetName, "dataset name");
        var manifestDocument = await ReadManifestAsync(datasetName, cancellationToken);
        if (manifestDocument is null)
            return new UploadOutcome(UploadOutcomeKind.ManifestGone, datasetName, null, null, new Dictionary<string, string[]>());
        var (content, size, etag) = manifestDocument.Value;
        string runId = RunIds.ForDatasetUpload(datasetName, etag);

        var errors = new FieldErrors();
        DatasetManifest? manifest = null;
        if (content is null)
            errors.Add("", $"the manifest has {size} bytes; a manifest may have at most {StrictJson.MaxDocumentBytes}.");
        else
            manifest = DatasetManifest.Parse(content, errors);
        RunRequest? request = null;
        ModelRecord? existing = null;
        if (manifest is not null)
        {
            manifest.Validate(datasetName, errors);
            if (errors.IsEmpty)
                await CheckPathsExistAsync(manifest, errors, cancellationToken);
            if (errors.IsEmpty)
                (request, existing) = await PlanRunAsync(manifest, runId, errors, cancellationToken);
        }
        if (manifest is null || request is null || !errors.IsEmpty)
        {
            var problems = new DatasetUploadProblems(etag, _time.GetUtcNow(), errors.ToDictionary());
            await store.WriteJsonAsync(ProblemsPath(datasetName), problems, cancellationToken);
            return new UploadOutcome(UploadOutcomeKind.Rejected, datasetName, runId, null, problems.Errors);
        }

        var record = existing is null
            ? new ModelRecord(manifest.ModelName, request.Architecture, manifest.Channels, manifest.Classes.ToArray(),
                request.Dataset, manifest.NightlyRebalance, _time.GetUtcNow())
            : existing with
            {
                InputChannels = manifest.Channels,
                Classes = manifest.Classes.ToArray(),
                Dataset = request.Dataset,
                NightlyRebalance = manifest.NightlyRebalance,
            };
        await registry.RegisterAsync(record, cancellationToken);
        await store.DeleteAsync(ProblemsPath(datasetName), cancellationToken);
        bool created = await RunLauncher.StartOrAttachAsync(client, request, cancellationToken);
        return new UploadOutcome(created ? UploadOutcomeKind.Started : UploadOutcomeKind.AlreadyStarted,
            datasetName, runId, request.Mode, new Dictionary<string, string[]>());
    }

    /// <summary>The manifest's bytes (null when too large to be one, which is not read), size and ETag; null when it is gone.</summary>
    private async Task<(byte[]? Content, long Size, string ETag)?> ReadManifestAsync(string datasetName, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await store.OpenReadAsync(ManifestPath(datasetName), cancellationToken);
            var properties = stream.Properties;
            if (properties.Size > StrictJson.MaxDocumentBytes)
                return (null, properties.Size, properties.ETag);
            using var buffer = new MemoryStream((int)properties.Size);
            await stream.CopyToAsync(buffer, cancellationToken); // read to the end: the recorded SHA-256 is checked
            return (buffer.ToArray(), properties.Size, properties.ETag);
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
    }

    private async Task CheckPathsExistAsync(DatasetManifest manifest, FieldErrors errors, CancellationToken cancellationToken)
    {
        for (int i = 0; i < manifest.Paths.Count; i++)
        {
            string listed = manifest.Paths[i];
            string path = manifest.ArtifactPathOf(listed);
            bool present = listed.EndsWith('/')
                ? (await store.ListAsync(path, cancellationToken)).Count > 0
                : await store.ExistsAsync(path, cancellationToken);
            if (!present)
            {
                errors.Add($"paths[{i}]", listed.EndsWith('/')
                    ? $"no files under {path}/; upload the data set's files before its manifest."
                    : $"{path} does not exist; upload the data set's files before its manifest.");
            }
        }
    }

    /// <summary>Chooses architecture and mode against the model's registration and builds the run request.</summary>
    private async Task<(RunRequest?, ModelRecord?)> PlanRunAsync(
        DatasetManifest manifest, string runId, FieldErrors errors, CancellationToken cancellationToken)
    {
        var existing = await registry.GetAsync(manifest.ModelName, cancellationToken);
        string? architecture = manifest.Architecture ?? existing?.Architecture;
        if (architecture is null)
            errors.Add("architecture", $"required: model '{manifest.ModelName}' is not registered yet, so the manifest must name its architecture.");
        else if (existing is not null && existing.Architecture != architecture)
            errors.Add("architecture", $"model '{manifest.ModelName}' is registered as {existing.Architecture}, not {architecture}.");

        bool hasBackbone = existing?.BackbonePath is not null
            || (existing is not null && await registry.GetChampionAsync(manifest.ModelName, cancellationToken) is not null);
        RunMode mode = manifest.Mode switch
        {
            "full" => RunMode.Full,
            "rebalance" => RunMode.Rebalance,
            _ => hasBackbone ? RunMode.Rebalance : RunMode.Full,
        };
        if (mode == RunMode.Rebalance)
        {
            if (!hasBackbone)
                errors.Add("mode", $"rebalance needs a trained backbone, but model '{manifest.ModelName}' has neither a champion nor a registered backbone; use full.");
            else if (!existing!.Classes.SequenceEqual(manifest.Classes, StringComparer.Ordinal))
                errors.Add("classes", $"differ from the {existing.Classes.Count} classes of model '{manifest.ModelName}'; a rebalance keeps the classes, so use mode full.");
            else if (existing.InputChannels != manifest.Channels)
                errors.Add("channels", $"model '{manifest.ModelName}' takes {existing.InputChannels}-channel images, not {manifest.Channels}.");
        }
        if (!errors.IsEmpty)
            return (null, existing);

        var request = new RunRequest(runId, manifest.ToDatasetReference(), manifest.ModelName, architecture!, mode,
            _defaults.Training, _defaults.Fsa, _defaults.Execution);
        foreach (var problem in RunRequestValidation.Problems(request))
            errors.Add(ManifestFieldOf(problem.Field), problem.ToString());
        return errors.IsEmpty ? (request, existing) : (null, existing);
    }

    /// <summary>The manifest field a run-request field came from; "" for the app's own settings.</summary>
    private static string ManifestFieldOf(string requestField) => requestField switch
    {
        "architecture" => "architecture",
        "modelName" => "modelName",
        "dataset.storeName" or "runId" => "name",
        "dataset.imageSize" => "imageSize",
        "dataset.channels" => "channels",
        "dataset.kind" => "format",
        _ => "",
    };
}
