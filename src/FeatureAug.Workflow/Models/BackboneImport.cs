using System.Security.Cryptography;
using FeatureAug.Core.Models;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;
using TorchSharp;
using TorchSharp.PyBridge;

namespace FeatureAug.Workflow.Models;

/// <summary>
/// Brings a backbone trained elsewhere into a model: a safetensors file or a PyTorch state_dict
/// (torch.save, .pt/.pth/.bin) with PyTorch-style names for one of the supported architectures. The file is
/// loaded into the architecture first, so a mismatch is reported before anything is stored, then copied to
/// models/&lt;name&gt;/backbones/imported-&lt;sha&gt;&lt;ext&gt; (content-addressed: re-importing the same file is a no-op).
/// The CLI imports a local file, the HTTP API an artifact already uploaded to the store; both go through one routine.
/// </summary>
public static class BackboneImport
{
    /// <summary>The checkpoint formats a backbone can come in.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".safetensors", ".pt", ".pth", ".bin"];

    /// <summary>Imports the backbone in <paramref name="localFile"/>; problems are reported as the field "backbone".</summary>
    /// <returns>The backbone's path in the store.</returns>
    /// <exception cref="InvalidRunInputException">The file is missing, of an unknown format, or does not fit the architecture.</exception>
    public static async Task<string> ImportAsync(
        IArtifactStore store, string modelName, string architecture, int inputChannels, int numClasses, string localFile,
        CancellationToken cancellationToken)
    {
        const string field = "backbone";
        if (!File.Exists(localFile)) throw new InvalidRunInputException($"{field}: file '{localFile}' does not exist.");
        string extension = CheckedExtension(localFile, field);
        return await ImportFileAsync(store, modelName, architecture, inputChannels, numClasses, localFile, extension, localFile, field, cancellationToken);
    }

    /// <summary>
    /// Imports the backbone stored at <paramref name="artifactPath"/> (downloaded to a temporary folder when the
    /// store is remote, its SHA-256 checked). A path already under the model's backbones folder is validated and kept
    /// as it is. Problems are reported under <paramref name="field"/>, the request field that named the path.
    /// </summary>
    /// <returns>The backbone's path in the store.</returns>
    /// <exception cref="InvalidRunInputException">Nothing is stored there, the format is unknown, or the checkpoint does not fit the architecture.</exception>
    /// <exception cref="ArtifactIntegrityException">The stored content does not match its recorded SHA-256.</exception>
    public static async Task<string> ImportFromStoreAsync(
        IArtifactStore store, string modelName, string architecture, int inputChannels, int numClasses, string artifactPath, string field,
        CancellationToken cancellationToken)
    {
        string extension = CheckedExtension(artifactPath, field);
        var scratch = Directory.CreateTempSubdirectory("featureaug-backbone-");
        try
        {
            LocalArtifactFile local;
            try { local = await store.GetLocalFileAsync(artifactPath, scratch.FullName, cancellationToken); }
            catch (ArtifactNotFoundException ex)
            {
                throw new InvalidRunInputException($"{field}: no artifact at '{artifactPath}'; upload the checkpoint to the store first.", ex);
            }
            using (local)
            {
                return await ImportFileAsync(store, modelName, architecture, inputChannels, numClasses, local.FilePath, extension, artifactPath, field,
                    cancellationToken, storedAt: artifactPath);
            }
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Missing and unexpected names, and tensors whose shape differs, the first few of each kind.</summary>
    private static List<string> StateDictProblems(IReadOnlyDictionary<string, torch.Tensor> expected, IReadOnlyDictionary<string, torch.Tensor> found)
    {
        const int shown = 5;
        static string Shape(torch.Tensor t) => "[" + string.Join(", ", t.shape) + "]";
        static string Some(IEnumerable<string> names) =>
            string.Join(", ", names.Take(shown)) + (names.Count() > shown ? $" and {names.Count() - shown} more" : "");
        var problems = new List<string>();
        var missing = expected.Keys.Where(k => !found.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0) problems.Add($"missing {Some(missing)}");
        var unexpected = found.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0) problems.Add($"unexpected {Some(unexpected)}");
        var reshaped = expected.Keys.Where(k => found.TryGetValue(k, out var t) && !t.shape.SequenceEqual(expected[k].shape))
            .Order(StringComparer.Ordinal)
            .Select(k => $"{k} is {Shape(found[k])} where the architecture has {Shape(expected[k])}").ToList();
        if (reshaped.Count > 0) problems.Add(Some(reshaped));
        return problems;
    }

    private static Dictionary<string, torch.Tensor> ReadPyTorchStateDict(string file)
    {
        using var stream = File.OpenRead(file);
        var table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        var weights = new Dictionary<string, torch.Tensor>();
        foreach (System.Collections.DictionaryEntry entry in table)
            weights[(string)entry.Key] = entry.Value as torch.Tensor
                ?? throw new InvalidDataException($"'{entry.Key}' is not a tensor.");
        return weights;
    }

    private static string CheckedExtension(string file, string field)
    {
        string extension = Path.GetExtension(file).ToLowerInvariant();
        if (!Extensions.Contains(extension))
            throw new InvalidRunInputException($"{field}: '{file}' must be .safetensors or a PyTorch state_dict (.pt, .pth, .bin).");
        return extension;
    }

    /// <summary>Loads <paramref name="file"/> into the architecture, then stores it content-addressed (unless <paramref name="storedAt"/> is already the model's).</summary>
    private static async Task<string> ImportFileAsync(
        IArtifactStore store, string modelName, string architecture, int inputChannels, int numClasses, string file, string extension,
        string shownAs, string field, CancellationToken cancellationToken, string? storedAt = null)
    {
        string mismatch = $"{field}: '{shownAs}' does not fit {architecture} with {inputChannels} input channels and {numClasses} classes";
        using (var scope = torch.NewDisposeScope())
        using (var model = ModelFactory.Create(architecture, inputChannels, numClasses))
        {
            Dictionary<string, torch.Tensor> weights;
            try
            {
                weights = extension == ".safetensors" ? Safetensors.LoadStateDict(file) : ReadPyTorchStateDict(file);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
            {
                // The parsers throw many exception types for a malformed file; each means the same: not a readable state dict.
                throw new InvalidRunInputException($"{mismatch}: it is not a readable state dict ({ex.Message}).", ex);
            }
            // TorchSharp copies loaded tensors with broadcasting, so a [16, 1, 3, 3] kernel would silently fill a
            // [16, 3, 3, 3] one: names and shapes are compared here, before loading.
            var problems = StateDictProblems(model.state_dict(), weights);
            if (problems.Count > 0)
                throw new InvalidRunInputException($"{mismatch}: {string.Join("; ", problems)}.");
            model.load_state_dict(weights, strict: true);
        }
        string folder = ArtifactPath.ModelBackbones(modelName);
        if (storedAt is not null && storedAt.StartsWith(folder + "/", StringComparison.Ordinal))
            return storedAt;
        string sha;
        await using (var stream = File.OpenRead(file)) sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        string path = ArtifactPath.Combine(folder, $"imported-{sha[..16]}{extension}");
        if (!await store.ExistsAsync(path, cancellationToken)) await store.UploadFromFileAsync(path, file, cancellationToken);
        return path;
    }
}
