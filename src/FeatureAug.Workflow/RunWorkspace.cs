using FeatureAug.Core.Data;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

/// <summary>
/// Moves run artifacts between the artifact store and the local scratch directory where TorchSharp
/// reads and writes files, and loads the run's data set. Every activity goes through it, so the same
/// code runs against a local directory and Blob Storage.
/// </summary>
public sealed class RunWorkspace(IArtifactStore store, WorkflowServiceOptions options)
{
    public IArtifactStore Store => store;

    /// <summary>A fresh local directory for one activity's outputs, deleted with its files when disposed.</summary>
    public ScratchDirectory NewScratchDirectory(string runId, string purpose) =>
        new(Path.Combine(options.WorkDirectory, ArtifactPath.ValidateIdentifier(runId, "run id"), purpose + "-" + Guid.NewGuid().ToString("N")[..8]));

    /// <summary>A local copy of an artifact, cached by path and SHA-256 so repeated reads download once.</summary>
    public async Task<string> GetLocalCopyAsync(string artifactPath, CancellationToken cancellationToken)
    {
        var properties = await store.GetPropertiesAsync(artifactPath, cancellationToken)
            ?? throw new ArtifactNotFoundException(artifactPath);
        string cached = Path.Combine(options.WorkDirectory, "cache", artifactPath.Replace('/', Path.DirectorySeparatorChar));
        string stamp = cached + ".etag";
        if (File.Exists(cached) && File.Exists(stamp) && await File.ReadAllTextAsync(stamp, cancellationToken) == properties.ETag)
            return cached;
        Directory.CreateDirectory(Path.GetDirectoryName(cached)!);
        var downloaded = await store.DownloadToFileAsync(artifactPath, cached, cancellationToken);
        await File.WriteAllTextAsync(stamp, downloaded.ETag, cancellationToken);
        return cached;
    }

    /// <summary>
    /// A local directory holding every artifact under <paramref name="prefix"/>: the store's own directory for
    /// a local store (no copy), else a download mirroring it.
    /// </summary>
    public async Task<string> GetLocalDirectoryAsync(string prefix, CancellationToken cancellationToken)
    {
        if (store is LocalArtifactStore local) return local.GetFilePath(prefix);
        var paths = await store.ListAsync(prefix, cancellationToken);
        foreach (string path in paths) await GetLocalCopyAsync(path, cancellationToken);
        string directory = Path.Combine(options.WorkDirectory, "cache", prefix.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>
    /// A local directory holding the named artifacts under <paramref name="prefix"/>: the store's own directory
    /// for a local store (no copy), else a download of just those files into a directory mirroring it.
    /// </summary>
    public async Task<string> GetLocalFilesAsync(string prefix, IEnumerable<string> fileNames, CancellationToken cancellationToken)
    {
        if (store is LocalArtifactStore local) return local.GetFilePath(prefix);
        string? directory = null;
        foreach (string name in fileNames)
            directory = Path.GetDirectoryName(await GetLocalCopyAsync(ArtifactPath.Combine(prefix, name), cancellationToken));
        return directory ?? throw new ArgumentException("No file names given.", nameof(fileNames));
    }

    /// <summary>Uploads every file of a local directory under <paramref name="prefix"/> (flat), returning the artifact paths.</summary>
    public async Task<IReadOnlyList<string>> PublishDirectoryAsync(string localDirectory, string prefix, CancellationToken cancellationToken)
    {
        var published = new List<string>();
        // Sidecars (.json manifests) go last so that a reader never sees a manifest before its data.
        var files = Directory.GetFiles(localDirectory).OrderBy(f => f.EndsWith(".json", StringComparison.Ordinal)).ThenBy(f => f, StringComparer.Ordinal);
        foreach (string file in files)
        {
            string path = ArtifactPath.Combine(prefix, Path.GetFileName(file));
            await store.UploadFromFileAsync(path, file, cancellationToken);
            published.Add(path);
        }
        return published;
    }

    /// <summary>
    /// The data set as the run trains, chooses and evaluates on it: <see cref="LoadDatasetAsync"/> with the validation
    /// split applied (<see cref="ValidationSplit.Apply"/>, seeded by the run seed), the same in every activity.
    /// </summary>
    public async Task<RunData> LoadRunDataAsync(RunRequest request, CancellationToken cancellationToken)
    {
        var split = await LoadDatasetAsync(request.Dataset, cancellationToken);
        var (withValidation, source) = ValidationSplit.Apply(split, request.Dataset.ValFraction, request.Execution.Seed);
        return new RunData(withValidation, source);
    }

    /// <summary>Loads the run's data set: from a local directory/preset, or downloaded from datasets/&lt;name&gt;/.</summary>
    public async Task<DatasetSplit> LoadDatasetAsync(DatasetReference reference, CancellationToken cancellationToken)
    {
        string? dataDir = reference.DataDir;
        if (reference.StoreName is not null)
        {
            string prefix = ArtifactPath.Dataset(reference.StoreName);
            if ((await store.ListAsync(prefix, cancellationToken)).Count == 0)
                throw new InvalidRunInputException($"dataset.storeName: no files under {prefix}/ in {store.Description}.");
            dataDir = await GetLocalDirectoryAsync(prefix, cancellationToken);
        }
        var request = new DatasetRequest(
            Kind: DatasetCatalog.ParseKind(reference.Kind),
            DataDir: dataDir,
            ImbalanceFactor: reference.ImbalanceFactor,
            Profile: reference.Profile == "step" ? ImbalanceProfile.Step : ImbalanceProfile.Exp,
            MaxPerClass: reference.MaxPerClass,
            ImageSize: reference.ImageSize,
            Channels: reference.Channels);
        try
        {
            var split = await DatasetCatalog.LoadAsync(request, progress: null, cancellationToken);
            if (split.Train.Count > options.MaxTrainingImages)
                throw new InvalidRunInputException($"dataset: {split.Train.Count} training images exceed the configured limit of {options.MaxTrainingImages}.");
            return split;
        }
        catch (DatasetFormatException ex) { throw new InvalidRunInputException($"dataset: {ex.Message}", ex); }
        catch (ArgumentException ex) { throw new InvalidRunInputException($"dataset: {ex.Message}", ex); }
    }
}

/// <summary>A run's data: train (without the validation images), validation, test; and where validation came from.</summary>
public sealed record RunData(DatasetSplit Split, string ValidationSource)
{
    public ImageDataset Train => Split.Train;
    public ImageDataset Test => Split.Test;
    public ImageDataset? Validation => Split.Validation;
}

/// <summary>A local directory for the files TorchSharp writes by path before they are uploaded; deleted on dispose.</summary>
public sealed class ScratchDirectory : IDisposable
{
    internal ScratchDirectory(string path)
    {
        Path = path;
        Directory.CreateDirectory(path);
    }

    public string Path { get; }

    /// <summary>The path of <paramref name="fileName"/> inside this directory.</summary>
    public string File(string fileName) => System.IO.Path.Combine(Path, fileName);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
