using System.CommandLine;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Cli.Commands;

/// <summary>`featureaug status`: a run's stage and progress, as the runner following it recorded them.</summary>
internal static class StatusCommand
{
    public static Command Create(CliConsole console)
    {
        var store = new StoreOptions();
        var runId = new Option<string>("--run-id") { Description = "The run", Required = true };
        var command = store.AddTo(new Command("status", "Show a run's stage and progress.") { runId });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var artifacts = store.Open(parse);
            var layout = new RunLayout(ArtifactPath.ValidateIdentifier(parse.GetValue(runId)!, "run id"));
            var status = await artifacts.TryReadJsonAsync<RunStatusRecord>(layout.Status, cancellationToken);
            if (status is null)
            {
                console.Error.WriteLine($"featureaug: run '{layout.RunId}' is unknown in {artifacts.Description}.");
                return FeatureAugCli.ExitBadInput;
            }
            var s = status.Value;
            console.Out.WriteLine($"run {layout.RunId}: {s.RuntimeStatus}, stage {s.Status?.Stage ?? "-"} ({s.Status?.Detail})");
            if (s.Status?.EtaUtc is { } eta) console.Out.WriteLine($"eta {eta:u}");
            var progress = await artifacts.TryReadJsonAsync<ActivityProgress>(layout.Progress, cancellationToken);
            if (progress is not null && s.RuntimeStatus == "Running")
                console.Out.WriteLine($"activity {progress.Value.Stage}: {progress.Value.Detail} ({progress.Value.Done}/{progress.Value.Total})");
            if (s.Failure is not null) console.Out.WriteLine($"failure: {s.Failure}");
            return FeatureAugCli.ExitOk;
        });
        return command;
    }
}
