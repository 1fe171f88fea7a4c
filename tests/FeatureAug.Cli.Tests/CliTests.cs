using System.Text.Json;
using FeatureAug.Cli;
using FeatureAug.Testing;

namespace FeatureAug.Cli.Tests;

/// <summary>The `featureaug` command as a user runs it: exit codes, messages, files, follow-up commands.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("featureaug-cli").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static async Task<(int Exit, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await FeatureAugCli.InvokeAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task ABackboneTrainedElsewhereIsRegisteredAndRebalancedWithoutPhaseOne()
    {
        string data = TinyDataset.Write(Path.Combine(root, "data"));
        // "Elsewhere": a separate store and run; its exported model is converted to a PyTorch state_dict file.
        string[] quick = { "--dataset", "idx", "--data-dir", data, "--model", "resnet8", "--batch-size", "32", "--nf", "2", "--nt", "4", "--na", "2",
            "--finetune-iterations", "30", "--threads", "1", "--device", "cpu" };
        var elsewhere = await InvokeAsync(new[] { "run", "--epochs", "1", "--run-id", "elsewhere", "--store-root", Path.Combine(root, "other"),
            "--output", Path.Combine(root, "other-out") }.Concat(quick).ToArray());
        Assert.True(elsewhere.Exit == 0, elsewhere.Error);
        string pytorchFile = Path.Combine(root, "backbone.pt");
        using (var model = FeatureAug.Core.Models.ModelFactory.Create("resnet8", 1, 5))
        {
            TorchSharp.PyBridge.PyBridgeModuleExtensions.load_safetensors(model, Path.Combine(root, "other-out", "model.safetensors"));
            TorchSharp.PyBridge.PyBridgeModuleExtensions.save_py(model, pytorchFile);
        }

        string[] store = { "--store-root", Path.Combine(root, "store") };
        var mismatch = await InvokeAsync(new[] { "models", "register", "--model-name", "byo", "--architecture", "resnet8", "--backbone", pytorchFile,
            "--classes", "a,b,c", "--channels", "1", "--dataset", "idx", "--data-dir", data }.Concat(store).ToArray());
        Assert.Equal(2, mismatch.Exit);
        Assert.Contains("does not fit resnet8", mismatch.Error);

        var register = await InvokeAsync(new[] { "models", "register", "--model-name", "byo", "--architecture", "resnet8", "--backbone", pytorchFile,
            "--classes", "0,1,2,3,4", "--channels", "1", "--dataset", "idx", "--data-dir", data }.Concat(store).ToArray());
        Assert.True(register.Exit == 0, register.Error);

        string output = Path.Combine(root, "out");
        var rebalance = await InvokeAsync(new[] { "run", "--mode", "rebalance", "--model-name", "byo", "--run-id", "byo-1", "--output", output }
            .Concat(quick).Concat(store).ToArray());
        Assert.True(rebalance.Exit == 0, rebalance.Error);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        Assert.Equal(0, report.RootElement.GetProperty("timings").GetProperty("phase1Seconds").GetDouble());
        Assert.False(Directory.Exists(Path.Combine(output, "checkpoints")), "no Phase-I checkpoint may exist for a rebalance run");
        Assert.Contains(": promoted the ", rebalance.Output);
        Assert.Contains(" head (first champion", rebalance.Output);
    }

    [Theory]
    [InlineData("--tau-g", "run", "--tau-s", "0.5", "--tau-g", "0.7")]
    [InlineData("--na", "run", "--na", "0")]
    [InlineData("--head-ratio", "run", "--head-ratio", "1.5")]
    [InlineData("resnet99", "run", "--model", "resnet99")]
    [InlineData("--bogus", "run", "--bogus", "1")]
    [InlineData("--epochs", "run", "--epochs", "many")]
    [InlineData("--run-id", "run", "--run-id", "../escape")]
    [InlineData("profile", "run", "--profile", "linear")]
    [InlineData("--fuse-activities", "run", "--fuse-activities", "0")]
    [InlineData("rebalance needs --model-name", "run", "--mode", "rebalance")]
    public async Task BadOptionsExitWithCodeTwoAndOneLineNamingTheProblem(string named, params string[] args)
    {
        var (exit, _, error) = await InvokeAsync(args.Append("--store-root").Append(Path.Combine(root, "store")).ToArray());
        Assert.Equal(2, exit);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("featureaug: ", line);
        Assert.Contains(named, line, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(Path.Combine(root, "store", "runs")), "nothing may be stored for a rejected run");
    }

    [Fact]
    public async Task RunWritesTheReportAndTheFollowUpCommandsReadIt()
    {
        string data = TinyDataset.Write(Path.Combine(root, "data"));
        string store = Path.Combine(root, "store"), output = Path.Combine(root, "out");
        string[] common = { "--store-root", store };
        var run = await InvokeAsync(new[]
        {
            "run", "--dataset", "idx", "--data-dir", data, "--model", "resnet8", "--epochs", "1", "--batch-size", "32",
            "--nf", "2", "--nt", "4", "--na", "2", "--finetune-iterations", "30", "--threads", "1", "--device", "cpu",
            "--run-id", "cli-1", "--model-name", "cli-model", "--output", output, "--fuse-activities", "1", "--reject-ambiguous-fused",
        }.Concat(common).ToArray());

        Assert.True(run.Exit == 0, run.Error);
        Assert.Contains("FSA", run.Output);
        Assert.Contains("cRT", run.Output);
        using (var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json"))))
        {
            var methods = report.RootElement.GetProperty("methods");
            foreach (string method in new[] { "ce", "noAug", "crt", "tauNorm", "fsa" })
                Assert.InRange(methods.GetProperty(method).GetProperty("top1").GetDouble(), 0, 1);
            Assert.Equal(JsonValueKind.Null, methods.GetProperty("ce").GetProperty("many").ValueKind); // no class above 100 images
            Assert.True(report.RootElement.GetProperty("timings").GetProperty("phase1Seconds").GetDouble() > 0);
        }
        foreach (string file in new[] { "report.md", "model.safetensors", "per-class-accuracy.png", "checkpoints/epoch-0001.model.safetensors" })
            Assert.True(File.Exists(Path.Combine(output, file)), file);

        var status = await InvokeAsync(new[] { "status", "--run-id", "cli-1" }.Concat(common).ToArray());
        Assert.Equal(0, status.Exit);
        Assert.Contains("Completed", status.Output);

        var markdown = await InvokeAsync(new[] { "report", "--run-id", "cli-1" }.Concat(common).ToArray());
        Assert.Equal(0, markdown.Exit);
        Assert.StartsWith("# FeatureAug run `cli-1`", markdown.Output);

        var models = await InvokeAsync(new[] { "models" }.Concat(common).ToArray());
        Assert.Contains("cli-model", models.Output);
        Assert.Contains("run cli-1", models.Output);

        var again = await InvokeAsync(new[] { "run", "--dataset", "idx", "--data-dir", data, "--run-id", "cli-1", "--model-name", "cli-model", "--output", output }
            .Concat(common).ToArray());
        Assert.Equal(0, again.Exit);
        Assert.Contains("already finished", again.Error);

        var unknown = await InvokeAsync(new[] { "status", "--run-id", "nope" }.Concat(common).ToArray());
        Assert.Equal(2, unknown.Exit);
    }
}
