using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FeatureAug.Core.Models;

/// <summary>How a <see cref="BasicBlock"/> matches its input to its output when the shape changes.</summary>
public enum ShortcutKind
{
    /// <summary>
    /// He et al. (2016) option A, as in the CIFAR ResNet-20..110: subsample by 2 and zero-pad the new
    /// channels. No parameters, which is what gives the published 0.27M for ResNet-20.
    /// </summary>
    ZeroPadding,

    /// <summary>Option B: 1x1 convolution with stride and batch norm (torchvision, kuangliu pytorch-cifar).</summary>
    Projection,
}

/// <summary>
/// The two-convolution residual block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
/// Submodule names follow the PyTorch originals (conv1, bn1, conv2, bn2, shortcut).
/// </summary>
internal sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Module<Tensor, Tensor> shortcut;

    public BasicBlock(int inPlanes, int planes, int stride, ShortcutKind shortcutKind) : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(planes);
        conv2 = Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        if (stride == 1 && inPlanes == planes)
            shortcut = Sequential();
        else if (shortcutKind == ShortcutKind.ZeroPadding)
            shortcut = new ZeroPaddingShortcut(inPlanes, planes, stride);
        else
            shortcut = Sequential(
                Conv2d(inPlanes, planes, kernel_size: 1, stride: stride, bias: false),
                BatchNorm2d(planes));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var output = functional.relu(bn1.call(conv1.call(x)));
        output = bn2.call(conv2.call(output));
        output = output.add_(shortcut.call(x));
        return functional.relu(output).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Option-A shortcut (the LambdaLayer of akamaster/pytorch_resnet_cifar10):
/// x[:, :, ::s, ::s] zero-padded on the channel axis from inPlanes to planes.
/// </summary>
internal sealed class ZeroPaddingShortcut : Module<Tensor, Tensor>
{
    private readonly long stride;
    private readonly long padBefore;
    private readonly long padAfter;

    public ZeroPaddingShortcut(int inPlanes, int planes, int stride) : base(nameof(ZeroPaddingShortcut))
    {
        if (planes < inPlanes)
            throw new ArgumentException($"A zero-padding shortcut cannot shrink {inPlanes} channels to {planes}; use a projection.");
        this.stride = stride;
        // Split the new channels evenly on both sides; for the usual doubling this is planes/4 each, as in the original.
        padBefore = (planes - inPlanes) / 2;
        padAfter = planes - inPlanes - padBefore;
    }

    public override Tensor forward(Tensor x)
    {
        using var subsampled = x[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(step: stride), TensorIndex.Slice(step: stride)];
        // pad lists (last dim, ..., first padded dim): width, height, then channels.
        return functional.pad(subsampled, new long[] { 0, 0, 0, 0, padBefore, padAfter });
    }
}
