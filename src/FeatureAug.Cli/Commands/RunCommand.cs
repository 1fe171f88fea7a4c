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
            try
            {
                return await runner.RunAsync(request, outputDirectory, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C or SIGTERM. The engine is disposed by now: the activity bodies have stopped and the
                // finished epochs' checkpoints and stage outputs are in the store, where a re-run reuses them.
                console.Error.WriteLine($"featureaug: interrupted; run {runId} stopped and its finished work is kept in the store. Resume it with:");
                console.Error.WriteLine("  " + ResumeCommand(parse, runId));
                return FeatureAugCli.ExitInterrupted;
            }
        });
        return command;
    }

    /// <summary>
    /// The command line as given, with <c>--run-id</c> added when it was generated, quoted for a POSIX shell.
    /// Connection strings holding a key or SAS token are left out (terminal scrollback, CI logs): the user gives them again.
    /// </summary>
    private static string ResumeCommand(ParseResult parse, string runId)
    {
        var words = parse.Tokens.Select(token => token.Value).ToList();
        if (!words.Contains("--run-id") && !words.Any(word => word.StartsWith("--run-id=", StringComparison.Ordinal)))
            words.AddRange(new[] { "--run-id", runId });
        return "featureaug " + string.Join(" ", words.Select(word => Quote(IsSecret(word) ? "<connection string>" : word)));
    }

    private static bool IsSecret(string word) =>
        word.Contains("AccountKey=", StringComparison.OrdinalIgnoreCase) || word.Contains("SharedAccessSignature=", StringComparison.OrdinalIgnoreCase);

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@%+,".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}
