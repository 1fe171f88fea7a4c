using System.CommandLine;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Cli;

/// <summary>The artifact-store options every command takes, declared once.</summary>
internal sealed class StoreOptions
{
    public Option<string> Kind { get; } = new("--store") { Description = "local | blob", DefaultValueFactory = _ => "local" };
    public Option<string> Root { get; } = new("--store-root") { Description = "Root directory of the local artifact store", DefaultValueFactory = _ => ".featureaug" };
    public Option<string?> Connection { get; } = new("--connection") { Description = "Blob storage connection string (e.g. Azurite)" };
    public Option<string?> AccountUrl { get; } = new("--account-url") { Description = "Blob account URL, authenticated with DefaultAzureCredential" };
    public Option<string> ContainerPrefix { get; } = new("--container-prefix")
    {
        Description = "Prefix of the blob containers datasets, runs and models (e.g. dev- for dev-datasets)",
        DefaultValueFactory = _ => "",
    };

    /// <summary>Adds the options to <paramref name="command"/> and returns it.</summary>
    public T AddTo<T>(T command) where T : Command
    {
        foreach (var option in new Option[] { Kind, Root, Connection, AccountUrl, ContainerPrefix }) command.Options.Add(option);
        return command;
    }

    /// <summary>The local store's root directory as an absolute path.</summary>
    public string LocalRoot(ParseResult parse) => Path.GetFullPath(parse.GetValue(Root)!);

    public ArtifactStoreOptions Resolve(ParseResult parse)
    {
        string kind = parse.GetValue(Kind)!;
        return kind switch
        {
            "local" => new ArtifactStoreOptions { Kind = ArtifactStoreKind.Local, LocalRoot = LocalRoot(parse) },
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

    public IArtifactStore Open(ParseResult parse) => ArtifactStoreFactory.Create(Resolve(parse));
}

/// <summary>Where a command writes: results to Out, messages and progress to Error.</summary>
internal sealed record CliConsole(TextWriter Out, TextWriter Error);
