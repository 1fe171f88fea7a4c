using System.Security.Cryptography;
using FeatureAug.Core.Models;
using FeatureAug.Workflow.Storage;
using TorchSharp.PyBridge;

namespace FeatureAug.Workflow.Models;

/// <summary>
/// Brings a backbone trained elsewhere into a model: a safetensors file or a PyTorch state_dict
/// (torch.save, .pt/.pth/.bin) with PyTorch-style names for one of the supported architectures. The file is
/// loaded into the architecture first, so a mismatch is reported before anything is stored, then copied to
/// models/&lt;name&gt;/backbones/imported-&lt;sha&gt;&lt;ext&gt; (content-addressed: re-importing the same file is a no-op).
/// </summary>
public static class BackboneImport
{
    public static async Task<string> ImportAsync(
        IArtifactStore store, string modelName, string architecture, int inputChannels, int numClasses, string localFile,
        CancellationToken cancellationToken)
    {
        if (!File.Exists(localFile)) throw new InvalidRunInputException($"backbone: file '{localFile}' does not exist.");
        string extension = Path.GetExtension(localFile).ToLowerInvariant();
        if (extension is not (".safetensors" or ".pt" or ".pth" or ".bin"))
            throw new InvalidRunInputException($"backbone: '{localFile}' must be .safetensors or a PyTorch state_dict (.pt, .pth, .bin).");
        using (var model = ModelFactory.Create(architecture, inputChannels, numClasses))
        {
            try
            {
                if (extension == ".safetensors") model.load_safetensors(localFile);
                else model.load_py(localFile);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IOException or NotImplementedException
                                       or System.Runtime.InteropServices.ExternalException)
            {
                throw new InvalidRunInputException(
                    $"backbone: '{localFile}' does not fit {architecture} with {inputChannels} input channels and {numClasses} classes: {ex.Message}", ex);
            }
        }
        string sha;
        await using (var stream = File.OpenRead(localFile)) sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        string path = ArtifactPath.Combine(ArtifactPath.ModelBackbones(modelName), $"imported-{sha[..16]}{extension}");
        if (!await store.ExistsAsync(path, cancellationToken)) await store.UploadFromFileAsync(path, localFile, cancellationToken);
        return path;
    }
}
