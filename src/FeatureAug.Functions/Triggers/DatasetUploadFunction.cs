using Azure.Storage.Blobs;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Functions.Triggers;

/// <summary>
/// Starts a run when a data set's manifest (datasets/&lt;name&gt;/dataset.json) arrives, delivered by Event
/// Grid (Source = EventGrid: no container polling, the event names the blob). The trigger watches blobs
/// &lt;name&gt;/dataset.json in the artifact store's container datasets; the blob's content is not bound, the
/// handler reads the manifest and its ETag through the artifact store.
/// </summary>
public sealed class DatasetUploadFunction(
    IArtifactStore store, ModelRegistry registry, RunDefaults defaults, TimeProvider time, ILogger<DatasetUploadFunction> logger)
{
    /// <summary>Container datasets, blob &lt;name&gt;/dataset.json: artifact datasets/&lt;name&gt;/dataset.json of the blob store.</summary>
    public const string BlobPath = ArtifactPath.DatasetsRoot + "/{name}/" + DatasetManifest.FileName;

    [Function("DatasetUploaded")]
    public async Task Run(
        [BlobTrigger(BlobPath, Source = BlobTriggerSource.EventGrid, Connection = "DatasetUploadConnection")] BlobClient manifest,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        string? datasetName = DatasetUploadHandler.DatasetNameOf(manifest.Name, out string? problem);
        if (datasetName is null)
        {
            logger.LogWarning("Ignoring blob {Blob}: {Problem}", manifest.Name, problem);
            return;
        }
        var outcome = await new DatasetUploadHandler(store, registry, client, defaults, time).HandleAsync(datasetName, cancellationToken);
        switch (outcome.Kind)
        {
            case UploadOutcomeKind.Rejected:
                logger.LogError("Data set {Dataset} rejected; problems written to {Path}: {Errors}", datasetName,
                    DatasetUploadHandler.ProblemsPath(datasetName),
                    string.Join("; ", outcome.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
                break;
            case UploadOutcomeKind.ManifestGone:
                logger.LogWarning("Data set {Dataset}: the manifest was deleted before the event was handled.", datasetName);
                break;
            default:
                logger.LogInformation("Data set {Dataset}: run {RunId} ({Mode}) {Outcome}.", datasetName, outcome.RunId, outcome.Mode,
                    outcome.Kind == UploadOutcomeKind.Started ? "started" : "already existed");
                break;
        }
    }
}
