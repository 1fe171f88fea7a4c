using System.CommandLine;
using FeatureAug.Core.Data;
using FeatureAug.Core.Models;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Cli.Commands;

/// <summary>`featureaug models register`: a model from a backbone trained elsewhere, checked against its architecture.</summary>
internal static class ModelsRegisterCommand
{
    public static Command Create(CliConsole console)
    {
        var store = new StoreOptions();
        var name = ModelsCommand.ModelNameOption();
        var architecture = new Option<string>("--architecture") { Description = "resnet8 | resnet20 | ... (the backbone's architecture)", Required = true };
        var backbone = new Option<string>("--backbone") { Description = "Backbone file: .safetensors or a PyTorch state_dict (.pt/.pth/.bin) with PyTorch names", Required = true };
        var classes = new Option<string>("--classes") { Description = "Comma-separated class names, in label order", Required = true };
        var channels = new Option<int>("--channels") { Description = "Input channels", DefaultValueFactory = _ => 3 };
        var dataset = new Option<string>("--dataset") { Description = "Data set kind that rebalances the model", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = "Directory of that data set" };
        var nightly = new Option<bool>("--nightly") { Description = "Rebalance nightly (Functions app timer)" };
        var command = store.AddTo(new Command("register", "Register a model from a backbone trained elsewhere; rebalance it with `run --mode rebalance`.")
            { name, architecture, backbone, classes, channels, dataset, dataDir, nightly });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var artifacts = store.Open(parse);
            string modelName = ArtifactPath.ValidateIdentifier(parse.GetValue(name)!, "model name");
            string arch = parse.GetValue(architecture)!;
            if (!ModelFactory.Names.Contains(arch))
                throw new ArgumentException($"--architecture: unknown '{arch}'; valid: {string.Join(", ", ModelFactory.Names)}.");
            var classNames = parse.GetValue(classes)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (classNames.Length < 2) throw new ArgumentException("--classes: a classifier needs at least 2 classes.");
            int inputChannels = parse.GetValue(channels);
            DatasetCatalog.ParseKind(parse.GetValue(dataset)!);
            string path = await BackboneImport.ImportAsync(artifacts, modelName, arch, inputChannels, classNames.Length,
                Path.GetFullPath(parse.GetValue(backbone)!), cancellationToken);
            var reference = new DatasetReference(Kind: parse.GetValue(dataset)!, DataDir: parse.GetValue(dataDir) is { } dir ? Path.GetFullPath(dir) : null, Channels: inputChannels);
            var registry = new ModelRegistry(artifacts);
            var existing = await registry.GetAsync(modelName, cancellationToken);
            await registry.RegisterAsync(new ModelRecord(modelName, arch, inputChannels, classNames, reference, parse.GetValue(nightly),
                existing?.RegisteredUtc ?? DateTimeOffset.UtcNow, path), cancellationToken);
            console.Out.WriteLine($"registered {modelName} ({arch}, {classNames.Length} classes) with backbone {path}");
            return FeatureAugCli.ExitOk;
        });
        return command;
    }
}
