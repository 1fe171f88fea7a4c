using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FeatureAug.Core.Models;

/// <summary>
/// A ResNet for small images: 3x3 stride-1 stem without max-pooling, then stages of
/// <see cref="BasicBlock"/>s, the first stage at stride 1 and every later one at stride 2.
/// Covers both CIFAR families:
/// <list type="bullet">
/// <item>He et al. (2016) CIFAR ResNet-(6n+2): widths 16/32/64, n blocks each, option-A shortcuts
/// (akamaster/pytorch_resnet_cifar10).</item>
/// <item>ResNet-18/34 for CIFAR: widths 64/128/256/512, projection shortcuts (kuangliu/pytorch-cifar).</item>
/// </list>
/// State-dict keys match the PyTorch code (conv1.weight, bn1.running_mean, layer1.0.conv1.weight,
/// layer2.0.shortcut.0.weight, fc.weight), except that the final layer is called fc as in torchvision.
/// </summary>
public sealed class CifarResNet : FeatureClassifier
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly List<Sequential> layers = new();
    private readonly Linear fc;
    private readonly int numClasses;

    /// <param name="name">Model name, e.g. resnet20.</param>
    /// <param name="stageWidths">Channels of each stage; the last one is the feature width K.</param>
    /// <param name="blocksPerStage">Number of blocks in each stage.</param>
    /// <param name="shortcutKind">Shortcut used where a block changes shape.</param>
    /// <param name="inputChannels">Image channels (1 for Fashion-MNIST, 3 for CIFAR).</param>
    /// <param name="numClasses">Output classes C.</param>
    public CifarResNet(
        string name, IReadOnlyList<int> stageWidths, IReadOnlyList<int> blocksPerStage, ShortcutKind shortcutKind,
        int inputChannels, int numClasses) : base(name)
    {
        if (stageWidths.Count == 0 || stageWidths.Count != blocksPerStage.Count)
            throw new ArgumentException($"{name}: {stageWidths.Count} stage widths for {blocksPerStage.Count} stage block counts.");
        if (stageWidths.Any(w => w <= 0) || blocksPerStage.Any(b => b <= 0))
            throw new ArgumentException($"{name}: stage widths and block counts must be positive.");
        if (inputChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputChannels), inputChannels, $"{name}: input channels must be positive.");
        if (numClasses < 2)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"{name}: a classifier needs at least 2 classes.");

        this.numClasses = numClasses;
        int inPlanes = stageWidths[0];
        conv1 = Conv2d(inputChannels, inPlanes, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn1 = BatchNorm2d(inPlanes);
        register_module("conv1", conv1);
        register_module("bn1", bn1);

        for (int stage = 0; stage < stageWidths.Count; stage++)
        {
            var layer = MakeLayer(ref inPlanes, stageWidths[stage], blocksPerStage[stage], stride: stage == 0 ? 1 : 2, shortcutKind);
            layers.Add(layer);
            register_module($"layer{stage + 1}", layer);
        }

        fc = Linear(inPlanes, numClasses);
        register_module("fc", fc);
        RegisterComponents();
        InitializeWeights();
    }

    public override int FeatureChannels => (int)fc.in_features;

    public override int NumClasses => numClasses;

    public override Linear Classifier => fc;

    public override Tensor ForwardFeatures(Tensor images)
    {
        using var scope = NewDisposeScope();
        var output = functional.relu(bn1.call(conv1.call(images)));
        foreach (var layer in layers) output = layer.call(output);
        return output.MoveToOuterDisposeScope();
    }

    private static Sequential MakeLayer(ref int inPlanes, int planes, int blocks, int stride, ShortcutKind shortcutKind)
    {
        var stack = new Module<Tensor, Tensor>[blocks];
        for (int i = 0; i < blocks; i++)
        {
            stack[i] = new BasicBlock(inPlanes, planes, i == 0 ? stride : 1, shortcutKind);
            inPlanes = planes;
        }
        return Sequential(stack);
    }

    /// <summary>
    /// Kaiming-normal (fan-in, ReLU gain) on every convolution and linear weight, as the CIFAR ResNet
    /// reference's _weights_init; batch norm starts at weight 1, bias 0 and the linear bias keeps
    /// PyTorch's default. Draws from torch's global generator, so torch.manual_seed makes it repeatable.
    /// </summary>
    private void InitializeWeights()
    {
        using var noGrad = torch.no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanIn, nonlinearity: init.NonlinearityType.ReLU);
                    break;
                case Linear linear:
                    init.kaiming_normal_(linear.weight, mode: init.FanInOut.FanIn, nonlinearity: init.NonlinearityType.ReLU);
                    break;
            }
        }
    }
}
