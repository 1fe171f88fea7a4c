using TorchSharp;
using TorchSharp.PyBridge;

namespace FeatureAug.Core.Models;

/// <summary>
/// Backbone weights as files, with PyTorch-style parameter names: a safetensors state dict or a PyTorch state_dict
/// saved by torch.save (.pt/.pth/.bin). How a backbone trained elsewhere comes in, and how the final model goes out.
/// </summary>
public static class BackboneFiles
{
    /// <summary>The weight-file formats a backbone can come in.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".safetensors", ".pt", ".pth", ".bin"];

    /// <summary>Whether <paramref name="file"/>'s extension is one of <see cref="Extensions"/>.</summary>
    public static bool IsWeightFile(string file) => Extensions.Contains(Path.GetExtension(file).ToLowerInvariant());

    /// <summary>
    /// Checks that <paramref name="file"/> is a state dict that fits <paramref name="model"/> name for name and shape
    /// for shape, then loads it (strict) and puts the model in eval mode. TorchSharp copies loaded tensors with
    /// broadcasting, so a [16, 1, 3, 3] kernel would silently fill a [16, 3, 3, 3] one: names and shapes are
    /// compared before anything is copied.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a readable state dict, or does not fit; the message says how.</exception>
    public static void LoadInto(FeatureClassifier model, string file)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = torch.NewDisposeScope();
        Dictionary<string, torch.Tensor> weights;
        try
        {
            weights = Path.GetExtension(file).Equals(".safetensors", StringComparison.OrdinalIgnoreCase)
                ? Safetensors.LoadStateDict(file)
                : ReadPyTorchStateDict(file);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            // The parsers throw many exception types for a malformed file; each means the same: not a readable state dict.
            throw new InvalidDataException($"it is not a readable state dict ({ex.Message}).", ex);
        }
        var problems = StateDictProblems(model.state_dict(), weights);
        if (problems.Count > 0)
            throw new InvalidDataException(string.Join("; ", problems) + ".");
        model.load_state_dict(weights, strict: true);
        model.eval();
    }

    /// <summary>Loads a Phase-I checkpoint's model state (SHA-256 checked) and puts the model in eval mode.</summary>
    public static void LoadCheckpointInto(FeatureClassifier model, string directory, Training.CheckpointManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(model);
        Training.Checkpoint.LoadModel(directory, manifest, model);
        model.eval();
    }

    /// <summary>
    /// Saves <paramref name="model"/> with <paramref name="head"/> as its classifier as one safetensors file with PyTorch
    /// names: the final model a PyTorch user loads with one state dict. The model's own FC is overwritten.
    /// </summary>
    public static void SaveWithHead(FeatureClassifier model, Fsa.ClassifierHead head, string file)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(head);
        head.CopyInto(model.Classifier);
        model.save_safetensors(file);
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
}
