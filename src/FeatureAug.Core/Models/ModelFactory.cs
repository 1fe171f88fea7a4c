namespace FeatureAug.Core.Models;

/// <summary>Builds the supported backbones by name.</summary>
public static class ModelFactory
{
    private static readonly int[] ThreeStageWidths = { 16, 32, 64 };
    private static readonly int[] FourStageWidths = { 64, 128, 256, 512 };

    /// <summary>Every name <see cref="Create"/> accepts, smallest CIFAR ResNets first.</summary>
    public static IReadOnlyList<string> Names { get; } =
        new[] { "resnet8", "resnet20", "resnet32", "resnet44", "resnet56", "resnet18", "resnet34" };

    /// <summary>
    /// A freshly initialised backbone. Call torch.manual_seed first for repeatable weights.
    /// resnet8..resnet56 are He et al.'s CIFAR ResNet-(6n+2) with option-A (zero-padding) shortcuts;
    /// resnet18/34 are the CIFAR variants of kuangliu/pytorch-cifar with projection shortcuts.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    public static FeatureClassifier Create(string name, int inputChannels, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim().ToLowerInvariant();
        return key switch
        {
            "resnet8" => ThreeStage(key, depth: 8, inputChannels, numClasses),
            "resnet20" => ThreeStage(key, depth: 20, inputChannels, numClasses),
            "resnet32" => ThreeStage(key, depth: 32, inputChannels, numClasses),
            "resnet44" => ThreeStage(key, depth: 44, inputChannels, numClasses),
            "resnet56" => ThreeStage(key, depth: 56, inputChannels, numClasses),
            "resnet18" => new CifarResNet(key, FourStageWidths, new[] { 2, 2, 2, 2 }, ShortcutKind.Projection, inputChannels, numClasses),
            "resnet34" => new CifarResNet(key, FourStageWidths, new[] { 3, 4, 6, 3 }, ShortcutKind.Projection, inputChannels, numClasses),
            _ => throw new ArgumentException($"Unknown model '{name}'. Valid models: {string.Join(", ", Names)}.", nameof(name)),
        };
    }

    /// <summary>A freshly initialised backbone whose weights depend only on <paramref name="seed"/> (torch's global generator is seeded first).</summary>
    public static FeatureClassifier Create(string name, int inputChannels, int numClasses, int seed)
    {
        TorchSharp.torch.manual_seed(seed);
        return Create(name, inputChannels, numClasses);
    }

    /// <summary>Learnable parameters of the architecture <paramref name="name"/> for that input and class count.</summary>
    public static long ParameterCount(string name, int inputChannels, int numClasses)
    {
        using var model = Create(name, inputChannels, numClasses);
        return model.parameters().Sum(p => p.numel());
    }

    // Depth 6n+2: the stem convolution, 3 stages of n two-convolution blocks, and the classifier.
    private static CifarResNet ThreeStage(string name, int depth, int inputChannels, int numClasses)
    {
        int blocks = (depth - 2) / 6;
        return new CifarResNet(name, ThreeStageWidths, new[] { blocks, blocks, blocks }, ShortcutKind.ZeroPadding, inputChannels, numClasses);
    }
}
