using System.CommandLine;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Cli.Commands;

/// <summary>`featureaug report`: prints a stored report.md (or report.json).</summary>
internal static class ReportCommand
{
    public static Command Create(CliConsole console)
    {
        var store = new StoreOptions();
        var runId = new Option<string>("--run-id") { Description = "The run", Required = true };
        var json = new Option<bool>("--json") { Description = "Print report.json instead of report.md" };
        var command = store.AddTo(new Command("report", "Print a stored run report.") { runId, json });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var artifacts = store.Open(parse);
            var layout = new RunLayout(parse.GetValue(runId)!);
            string path = parse.GetValue(json) ? layout.ReportJson : layout.ReportMarkdown;
            if (!await artifacts.ExistsAsync(path, cancellationToken))
            {
                console.Error.WriteLine($"featureaug: no report at {path} in {artifacts.Description}.");
                return FeatureAugCli.ExitBadInput;
            }
            await using var stream = await artifacts.OpenReadAsync(path, cancellationToken);
            using var reader = new StreamReader(stream);
            console.Out.Write(await reader.ReadToEndAsync(cancellationToken));
            return FeatureAugCli.ExitOk;
        });
        return command;
    }
}
