using System.CommandLine;
using System.Globalization;
using FeatureAug.Core.Reporting;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Engines;
using Microsoft.Extensions.Logging;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;
using Spectre.Console;

namespace FeatureAug.Cli;

/// <summary>The `featureaug` command line: run, status, report, models.</summary>
public static class FeatureAugCli
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitBadInput = 2;

    private static readonly Option<string> StoreKind = new("--store") { Description = "local | blob", DefaultValueFactory = _ => "local" };
    private static readonly Option<string> StoreRoot = new("--store-root") { Description = "Root directory of the local artifact store", DefaultValueFactory = _ => ".featureaug" };
    private static readonly Option<string?> Connection = new("--connection") { Description = "Blob storage connection string (e.g. Azurite)" };
    private static readonly Option<string?> AccountUrl = new("--account-url") { Description = "Blob account URL, authenticated with DefaultAzureCredential" };
    private static readonly Option<string> ContainerPrefix = new("--container-prefix") { Description = "Prefix of the blob containers datasets, runs and models (e.g. dev- for dev-datasets)", DefaultValueFactory = _ => "" };

    public static async Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var root = new RootCommand("FeatureAug: Feature Space Augmentation for long-tailed image classification, run as a Durable workflow.");
        root.Subcommands.Add(RunCommand(output, error));
        root.Subcommands.Add(StatusCommand(output, error));
        root.Subcommands.Add(ReportCommand(output, error));
        root.Subcommands.Add(ModelsCommand(output, error));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            error.WriteLine($"featureaug: {parse.Errors[0].Message}");
            return ExitBadInput;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidRunInputException)
        {
            error.WriteLine($"featureaug: {OneLine(ex.Message)}");
            return ExitBadInput;
        }
    }

    private static void AddStoreOptions(Command command)
    {
        foreach (var option in new Option[] { StoreKind, StoreRoot, Connection, AccountUrl, ContainerPrefix }) command.Options.Add(option);
    }

    private static ArtifactStoreOptions StoreOptions(ParseResult parse)
    {
        string kind = parse.GetValue(StoreKind)!;
        return kind switch
        {
            "local" => new ArtifactStoreOptions { Kind = ArtifactStoreKind.Local, LocalRoot = Path.GetFullPath(parse.GetValue(StoreRoot)!) },
            "blob" => new ArtifactStoreOptions
            {
                Kind = ArtifactStoreKind.Blob,
                ConnectionString = parse.GetValue(Connection),
                AccountUrl = parse.GetValue(AccountUrl),
                ContainerPrefix = parse.GetValue(ContainerPrefix)!,
            },
            _ => throw new ArgumentException($"--store must be local or blob, not '{kind}'."),
        };
    }

    private static Command RunCommand(TextWriter output, TextWriter error)
    {
        var binding = new RunOptionsBinding();
        var command = new Command("run", "Run the whole pipeline (Phase I, features, fusion, Phase II, evaluation) through the Durable orchestration.");
        foreach (var option in binding.All.Where(o => o.Name is not ("--store" or "--connection" or "--account-url"))) command.Options.Add(option);
        AddStoreOptions(command);
        var storeRoot = StoreRoot;
        command.SetAction(async (parse, cancellationToken) =>
        {
            string runId = parse.GetValue(binding.RunId) ?? "run-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            var request = binding.ToRequest(parse, runId);
            var storeOptions = StoreOptions(parse);
            var options = new WorkflowServiceOptions
            {
                Store = storeOptions,
                WorkDirectory = Path.Combine(Path.GetFullPath(parse.GetValue(storeRoot)!), ".work"),
            };
            string outputDirectory = Path.GetFullPath(parse.GetValue(binding.Output)!);
            var engine = EngineChoice.From(parse.GetValue(binding.Engine)!, parse.GetValue(binding.EngineConnection) ?? parse.GetValue(Connection),
                parse.GetValue(AccountUrl), parse.GetValue(binding.TaskHub)!, parse.GetValue(binding.Concurrency),
                parse.GetValue(binding.EngineLockSeconds));
            var runner = new LocalRunner(options, engine, output, error);
            return await runner.RunAsync(request, outputDirectory, cancellationToken);
        });
        return command;
    }

    private static Command StatusCommand(TextWriter output, TextWriter error)
    {
        var runId = new Option<string>("--run-id") { Description = "The run", Required = true };
        var command = new Command("status", "Show a run's stage and progress.") { runId };
        AddStoreOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var store = ArtifactStoreFactory.Create(StoreOptions(parse));
            string id = ArtifactPath.ValidateIdentifier(parse.GetValue(runId)!, "run id");
            var status = await store.TryReadJsonAsync<RunStatusRecord>(LocalRunner.StatusPath(id), cancellationToken);
            if (status is null)
            {
                error.WriteLine($"featureaug: run '{id}' is unknown in {store.Description}.");
                return ExitBadInput;
            }
            var s = status.Value;
            output.WriteLine($"run {id}: {s.RuntimeStatus}, stage {s.Status?.Stage ?? "-"} ({s.Status?.Detail})");
            if (s.Status?.EtaUtc is { } eta) output.WriteLine($"eta {eta:u}");
            var progress = await store.TryReadJsonAsync<ActivityProgress>(RunProgressHub.ProgressPath(id), cancellationToken);
            if (progress is not null && s.RuntimeStatus == "Running")
                output.WriteLine($"activity {progress.Value.Stage}: {progress.Value.Detail} ({progress.Value.Done}/{progress.Value.Total})");
            if (s.Failure is not null) output.WriteLine($"failure: {s.Failure}");
            return ExitOk;
        });
        return command;
    }

    private static Command ReportCommand(TextWriter output, TextWriter error)
    {
        var runId = new Option<string>("--run-id") { Description = "The run", Required = true };
        var json = new Option<bool>("--json") { Description = "Print report.json instead of report.md" };
        var command = new Command("report", "Print a stored run report.") { runId, json };
        AddStoreOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var store = ArtifactStoreFactory.Create(StoreOptions(parse));
            string reports = ArtifactPath.RunReports(parse.GetValue(runId)!);
            string path = ArtifactPath.Combine(reports, parse.GetValue(json) ? "report.json" : "report.md");
            if (!await store.ExistsAsync(path, cancellationToken))
            {
                error.WriteLine($"featureaug: no report at {path} in {store.Description}.");
                return ExitBadInput;
            }
            await using var stream = await store.OpenReadAsync(path, cancellationToken);
            using var reader = new StreamReader(stream);
            output.Write(await reader.ReadToEndAsync(cancellationToken));
            return ExitOk;
        });
        return command;
    }

    private static Command ModelsCommand(TextWriter output, TextWriter error)
    {
        var command = new Command("models", "Registered models, their champions and history.");
        AddStoreOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var registry = new ModelRegistry(ArtifactStoreFactory.Create(StoreOptions(parse)));
            var models = await registry.ListAsync(cancellationToken);
            if (models.Count == 0) output.WriteLine("no registered models");
            foreach (var model in models)
            {
                var champion = await registry.GetChampionAsync(model.Name, cancellationToken);
                output.WriteLine(champion is null
                    ? $"{model.Name}\t{model.Architecture}\tno champion"
                    : $"{model.Name}\t{model.Architecture}\tchampion v{champion.Version} run {champion.RunId} top1 {champion.Top1.ToString("P2", CultureInfo.InvariantCulture)}\tnightly {(model.NightlyRebalance ? "on" : "off")}");
            }
            return ExitOk;
        });

        var name = new Option<string>("--model-name") { Description = "The model", Required = true };
        var rollback = new Command("rollback", "Restore the champion the current one replaced.") { name };
        AddStoreOptions(rollback);
        rollback.SetAction(async (parse, cancellationToken) =>
        {
            var registry = new ModelRegistry(ArtifactStoreFactory.Create(StoreOptions(parse)));
            try
            {
                var restored = await registry.RollbackAsync(parse.GetValue(name)!, cancellationToken);
                output.WriteLine($"champion is now v{restored.Version}: run {restored.RunId} (top1 {restored.Top1.ToString("P2", CultureInfo.InvariantCulture)})");
                return ExitOk;
            }
            catch (InvalidOperationException ex)
            {
                error.WriteLine($"featureaug: {ex.Message}");
                return ExitBadInput;
            }
        });
        command.Subcommands.Add(rollback);

        var architecture = new Option<string>("--architecture") { Description = "resnet8 | resnet20 | ... (the backbone's architecture)", Required = true };
        var backbone = new Option<string>("--backbone") { Description = "Backbone file: .safetensors or a PyTorch state_dict (.pt/.pth/.bin) with PyTorch names", Required = true };
        var classes = new Option<string>("--classes") { Description = "Comma-separated class names, in label order", Required = true };
        var channels = new Option<int>("--channels") { Description = "Input channels", DefaultValueFactory = _ => 3 };
        var dataset = new Option<string>("--dataset") { Description = "Data set kind that rebalances the model", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = "Directory of that data set" };
        var nightly = new Option<bool>("--nightly") { Description = "Rebalance nightly (Functions app timer)" };
        var register = new Command("register", "Register a model from a backbone trained elsewhere; rebalance it with `run --mode rebalance`.")
            { name, architecture, backbone, classes, channels, dataset, dataDir, nightly };
        AddStoreOptions(register);
        register.SetAction(async (parse, cancellationToken) =>
        {
            var store = ArtifactStoreFactory.Create(StoreOptions(parse));
            string modelName = ArtifactPath.ValidateIdentifier(parse.GetValue(name)!, "model name");
            string arch = parse.GetValue(architecture)!;
            if (!Core.Models.ModelFactory.Names.Contains(arch))
                throw new ArgumentException($"--architecture: unknown '{arch}'; valid: {string.Join(", ", Core.Models.ModelFactory.Names)}.");
            var classNames = parse.GetValue(classes)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (classNames.Length < 2) throw new ArgumentException("--classes: a classifier needs at least 2 classes.");
            int inputChannels = parse.GetValue(channels);
            Core.Data.DatasetCatalog.ParseKind(parse.GetValue(dataset)!);
            string path = await BackboneImport.ImportAsync(store, modelName, arch, inputChannels, classNames.Length,
                Path.GetFullPath(parse.GetValue(backbone)!), cancellationToken);
            var reference = new DatasetReference(Kind: parse.GetValue(dataset)!, DataDir: parse.GetValue(dataDir) is { } dir ? Path.GetFullPath(dir) : null, Channels: inputChannels);
            var registry = new ModelRegistry(store);
            var existing = await registry.GetAsync(modelName, cancellationToken);
            await registry.RegisterAsync(new ModelRecord(modelName, arch, inputChannels, classNames, reference, parse.GetValue(nightly),
                existing?.RegisteredUtc ?? DateTimeOffset.UtcNow, path), cancellationToken);
            output.WriteLine($"registered {modelName} ({arch}, {classNames.Length} classes) with backbone {path}");
            return ExitOk;
        });
        command.Subcommands.Add(register);

        var history = new Command("history", "Every promotion and rollback of a model.") { name };
        AddStoreOptions(history);
        history.SetAction(async (parse, cancellationToken) =>
        {
            var registry = new ModelRegistry(ArtifactStoreFactory.Create(StoreOptions(parse)));
            foreach (var entry in await registry.HistoryAsync(parse.GetValue(name)!, cancellationToken))
                output.WriteLine($"v{entry.Version}\t{entry.Utc:u}\t{entry.Action}\trun {entry.Champion.RunId}\t{entry.Reason}");
            return ExitOk;
        });
        command.Subcommands.Add(history);
        return command;
    }

    internal static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}

/// <summary>Which Durable engine runs the orchestration: in memory, or with its state in Azure Storage.</summary>
internal sealed record EngineChoice(bool Durable, DurableStorageEngineOptions? StorageOptions, int ActivityConcurrency)
{
    public static EngineChoice From(string engine, string? connection, string? accountUrl, string taskHub, int concurrency, int lockSeconds)
    {
        if (lockSeconds is < 10 or > 600) throw new ArgumentException($"--engine-lock-seconds must lie in 10..600, got {lockSeconds}.");
        if (concurrency < 1) throw new ArgumentException($"--activity-concurrency must be at least 1, got {concurrency}.");
        switch (engine)
        {
            case "memory":
                return new EngineChoice(false, null, concurrency);
            case "azure-storage":
                DurableStorageEngineOptions.ValidateTaskHubName(taskHub);
                string? accountName = accountUrl is null ? null : new Uri(accountUrl).Host.Split('.')[0];
                if (connection is null && accountName is null)
                    throw new ArgumentException("--engine azure-storage needs --engine-connection, --connection or --account-url.");
                var options = new DurableStorageEngineOptions
                {
                    ConnectionString = connection,
                    AccountName = connection is null ? accountName : null,
                    TaskHubName = taskHub,
                    ActivityConcurrency = concurrency,
                    MessageVisibilityTimeout = TimeSpan.FromSeconds(lockSeconds),
                    PartitionLeaseInterval = TimeSpan.FromSeconds(Math.Clamp(lockSeconds * 3 / 5, 6, 120)),
                };
                options.Validate();
                return new EngineChoice(true, options, concurrency);
            default:
                throw new ArgumentException($"--engine must be memory or azure-storage, not '{engine}'.");
        }
    }

    public async Task<IWorkflowEngine> StartAsync(WorkflowServiceOptions services, CancellationToken cancellationToken) =>
        Durable
            ? await DurableStorageEngine.StartAsync(StorageOptions!, r => r.AddFeatureAugTasks(), s => s.AddFeatureAugWorkflow(services),
                Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning)), cancellationToken)
            : await EmbeddedEngine.StartAsync(services, ActivityConcurrency, cancellationToken: cancellationToken);
}

/// <summary>What the CLI records of a run it follows, for `featureaug status` from another process.</summary>
public sealed record RunStatusRecord(string RunId, string RuntimeStatus, RunStatus? Status, string? Failure, DateTimeOffset UpdatedUtc);
