using System.Security.Cryptography;
using FeatureAug.Core.Models;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

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

    private static string CheckedExtension(string file, string field)
    {
        if (!BackboneFiles.IsWeightFile(file))
            throw new InvalidRunInputException($"{field}: '{file}' must be .safetensors or a PyTorch state_dict (.pt, .pth, .bin).");
        return Path.GetExtension(file).ToLowerInvariant();
    }

    /// <summary>Loads <paramref name="file"/> into the architecture, then stores it content-addressed (unless <paramref name="storedAt"/> is already the model's).</summary>
    private static async Task<string> ImportFileAsync(
        IArtifactStore store, string modelName, string architecture, int inputChannels, int numClasses, string file, string extension,
        string shownAs, string field, CancellationToken cancellationToken, string? storedAt = null)
    {
        string mismatch = $"{field}: '{shownAs}' does not fit {architecture} with {inputChannels} input channels and {numClasses} classes";
        using (var model = ModelFactory.Create(architecture, inputChannels, numClasses))
        {
            try { BackboneFiles.LoadInto(model, file); }
            catch (InvalidDataException ex) { throw new InvalidRunInputException($"{mismatch}: {ex.Message}", ex); }
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
