using System.CommandLine;
using System.Globalization;
using FeatureAug.Workflow.Models;

namespace FeatureAug.Cli.Commands;

/// <summary>`featureaug models`: registered models and their champions; its subcommands manage one model.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliConsole console)
    {
        var store = new StoreOptions();
        var command = store.AddTo(new Command("models", "Registered models, their champions and history."));
        command.SetAction(async (parse, cancellationToken) =>
        {
            var registry = new ModelRegistry(store.Open(parse));
            var models = await registry.ListAsync(cancellationToken);
            if (models.Count == 0) console.Out.WriteLine("no registered models");
            foreach (var model in models)
            {
                var champion = await registry.GetChampionAsync(model.Name, cancellationToken);
                console.Out.WriteLine(champion is null
                    ? $"{model.Name}\t{model.Architecture}\tno champion"
                    : $"{model.Name}\t{model.Architecture}\tchampion v{champion.Version} run {champion.RunId} top1 {champion.Top1.ToString("P2", CultureInfo.InvariantCulture)}\tnightly {(model.NightlyRebalance ? "on" : "off")}");
            }
            return FeatureAugCli.ExitOk;
        });
        command.Subcommands.Add(ModelsRollbackCommand.Create(console));
        command.Subcommands.Add(ModelsRegisterCommand.Create(console));
        command.Subcommands.Add(ModelsHistoryCommand.Create(console));
        return command;
    }

    /// <summary>The --model-name option of the subcommands.</summary>
    public static Option<string> ModelNameOption() => new("--model-name") { Description = "The model", Required = true };
}

/// <summary>`featureaug models rollback`: restores the champion the current one replaced.</summary>
internal static class ModelsRollbackCommand
{
    public static Command Create(CliConsole console)
    {
        var store = new StoreOptions();
        var name = ModelsCommand.ModelNameOption();
        var command = store.AddTo(new Command("rollback", "Restore the champion the current one replaced.") { name });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var registry = new ModelRegistry(store.Open(parse));
            try
            {
                var restored = await registry.RollbackAsync(parse.GetValue(name)!, cancellationToken);
                console.Out.WriteLine($"champion is now v{restored.Version}: run {restored.RunId} (top1 {restored.Top1.ToString("P2", CultureInfo.InvariantCulture)})");
                return FeatureAugCli.ExitOk;
            }
            catch (InvalidOperationException ex)
            {
                console.Error.WriteLine($"featureaug: {ex.Message}");
                return FeatureAugCli.ExitBadInput;
            }
        });
        return command;
    }
}

/// <summary>`featureaug models history`: every promotion and rollback of a model.</summary>
internal static class ModelsHistoryCommand
{
    public static Command Create(CliConsole console)
    {
        var store = new StoreOptions();
        var name = ModelsCommand.ModelNameOption();
        var command = store.AddTo(new Command("history", "Every promotion and rollback of a model.") { name });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var registry = new ModelRegistry(store.Open(parse));
            foreach (var entry in await registry.HistoryAsync(parse.GetValue(name)!, cancellationToken))
                console.Out.WriteLine($"v{entry.Version}\t{entry.Utc:u}\t{entry.Action}\trun {entry.Champion.RunId}\t{entry.Reason}");
            return FeatureAugCli.ExitOk;
        });
        return command;
    }
}
