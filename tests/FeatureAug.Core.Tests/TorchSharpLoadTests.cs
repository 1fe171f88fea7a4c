using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests;

public class TorchSharpLoadTests
{
    [Fact]
    public void TorchSharpLoadsAndTakesATrainingStep()
    {
        torch.manual_seed(0);
        using var scope = torch.NewDisposeScope();
        var layer = nn.Linear(4, 2);
        var optimizer = optim.SGD(layer.parameters(), 0.1);
        var x = torch.randn(8, 4);
        var y = torch.tensor(new long[] { 0, 1, 0, 1, 0, 1, 0, 1 });
        var before = nn.functional.cross_entropy(layer.forward(x), y).item<float>();
        for (int i = 0; i < 20; i++)
        {
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(layer.forward(x), y);
            loss.backward();
            optimizer.step();
        }
        var after = nn.functional.cross_entropy(layer.forward(x), y).item<float>();
        Assert.True(after < before, $"loss should fall: {before} -> {after}");
    }
}
