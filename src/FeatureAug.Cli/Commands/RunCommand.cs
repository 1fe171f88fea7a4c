using System.CommandLine;
using System.Globalization;
using FeatureAug.Workflow;

namespace FeatureAug.Cli.Commands;

/// <summary>`featureaug run`: the whole pipeline through the Durable orchestration, on a local engine.</summary>
internal static class RunCommand
{
    public static Command Create(CliConsole console)
    {
        var binding = new RunOptionsBinding();
        var store = new StoreOptions();
        var command = new Command("run", "Run the whole pipeline (Phase I, features, fusion, Phase II, evaluation) through the Durable orchestration.");
        foreach (var option in binding.All) command.Options.Add(option);
        store.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string runId = parse.GetValue(binding.RunId) ?? "run-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            var request = binding.ToRequest(parse, runId);
            var options = new WorkflowServiceOptions
            {
                Store = store.Resolve(parse),
                WorkDirectory = Path.Combine(store.LocalRoot(parse), ".work"),
            };
            string outputDirectory = Path.GetFullPath(parse.GetValue(binding.Output)!);
            var engine = EngineChoice.From(parse.GetValue(binding.Engine)!, parse.GetValue(binding.EngineConnection) ?? parse.GetValue(store.Connection),
                parse.GetValue(store.AccountUrl), parse.GetValue(binding.TaskHub)!, parse.GetValue(binding.Concurrency),
                parse.GetValue(binding.EngineLockSeconds));
            var runner = new LocalRunner(options, engine, console.Out, console.Error);
            return await runner.RunAsync(request, outputDirectory, cancellationToken);
        });
        return command;
    }
}
