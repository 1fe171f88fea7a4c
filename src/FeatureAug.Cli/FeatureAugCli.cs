using System.CommandLine;
using FeatureAug.Cli.Commands;
using FeatureAug.Workflow.Inputs;

namespace FeatureAug.Cli;

/// <summary>The `featureaug` command line: run, status, report, models.</summary>
public static class FeatureAugCli
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitBadInput = 2;
    /// <summary>Stopped by Ctrl-C or SIGTERM (128 + SIGINT, the shell's convention).</summary>
    public const int ExitInterrupted = 130;

    public static async Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var root = new RootCommand("FeatureAug: Feature Space Augmentation for long-tailed image classification, run as a Durable workflow.");
        var console = new CliConsole(output, error);
        root.Subcommands.Add(RunCommand.Create(console));
        root.Subcommands.Add(StatusCommand.Create(console));
        root.Subcommands.Add(ReportCommand.Create(console));
        root.Subcommands.Add(ModelsCommand.Create(console));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            error.WriteLine($"featureaug: {parse.Errors[0].Message}");
            return ExitBadInput;
        }
        try
        {
            // On Ctrl-C the action stops the engine (the durable one hands its work back first, up to ~30 s when
            // storage is slow) and prints how to resume; System.CommandLine's default 2 s would end the process first.
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
            });
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidRunInputException)
        {
            error.WriteLine($"featureaug: {OneLine(ex.Message)}");
            return ExitBadInput;
        }
    }

    internal static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
