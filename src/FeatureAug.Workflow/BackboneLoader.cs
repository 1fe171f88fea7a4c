using FeatureAug.Core.Models;
using FeatureAug.Core.Training;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

/// <summary>
/// Loads a backbone from the artifact store: a Phase-I checkpoint (its JSON manifest, SHA-256 checked),
/// a safetensors state dict, or a PyTorch state_dict (.pt/.pth/.bin) saved by torch.save, all with
/// PyTorch-style parameter names. The last two are how a backbone trained elsewhere is brought in.
/// </summary>
public static class BackboneLoader
{
    public static async Task<FeatureClassifier> LoadAsync(
        RunWorkspace workspace, BackboneReference backbone, int inputChannels, int numClasses, CancellationToken cancellationToken)
    {
        var model = ModelFactory.Create(backbone.Architecture, inputChannels, numClasses);
        try
        {
            string path = backbone.CheckpointPath;
            string extension = Path.GetExtension(path).ToLowerInvariant();
            if (extension == ".json")
            {
                var manifest = await workspace.Store.ReadJsonAsync<CheckpointManifest>(path, cancellationToken);
                string directory = path[..path.LastIndexOf('/')];
                string modelFile = await workspace.GetLocalCopyAsync(ArtifactPath.Combine(directory, manifest.ModelFile), cancellationToken);
                BackboneFiles.LoadCheckpointInto(model, Path.GetDirectoryName(modelFile)!, manifest);
            }
            else if (BackboneFiles.IsWeightFile(path))
            {
                BackboneFiles.LoadInto(model, await workspace.GetLocalCopyAsync(path, cancellationToken));
            }
            else
            {
                throw new InvalidRunInputException($"backbone: '{path}' is neither a checkpoint manifest (.json), safetensors nor a PyTorch state_dict (.pt/.pth/.bin).");
            }
            return model;
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or ArgumentException
                                   or System.Runtime.InteropServices.ExternalException)
        {
            model.Dispose();
            throw new InvalidRunInputException($"backbone: {backbone.CheckpointPath} does not fit {backbone.Architecture} with {inputChannels} input channels and {numClasses} classes: {ex.Message}", ex);
        }
    }
}
