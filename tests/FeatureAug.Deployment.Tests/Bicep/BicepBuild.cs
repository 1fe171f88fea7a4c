namespace FeatureAug.Deployment.Tests.Bicep;

/// <summary>Runs tools/bicep-build.sh, the CI gate for the templates.</summary>
public static class BicepBuild
{
    // Restore, CLI start-up and compilation take seconds; the limit only stops a hung run.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>Compiles every template and parameter file under <paramref name="folder"/> into <paramref name="outputFolder"/>.</summary>
    public static Task<ProcessResult> RunAsync(string folder, string outputFolder) =>
        ProcessResult.RunAsync(
            "bash",
            new[] { RepositoryPaths.Combine("tools", "bicep-build.sh"), folder },
            RepositoryPaths.Root,
            new Dictionary<string, string> { ["BICEP_OUT_DIR"] = outputFolder },
            Timeout);
}

/// <summary>Compiles infra/ once for every test in the collection and keeps the ARM JSON.</summary>
public sealed class CompiledInfrastructure : IAsyncLifetime
{
    /// <summary>Folder holding the compiled ARM templates and parameter files, mirroring infra/.</summary>
    public string OutputFolder { get; } = Directory.CreateTempSubdirectory("featureaug-bicep-").FullName;

    /// <summary>The script's exit code and output.</summary>
    public ProcessResult Result { get; private set; } = new(-1, "");

    /// <summary>A compiled template or parameter file, e.g. <c>modules/storage.json</c>.</summary>
    public ArmTemplate Load(string relativePath)
    {
        string path = Path.Combine(OutputFolder, relativePath);
        Assert.True(File.Exists(path), $"{relativePath} was not produced; bicep-build output:\n{Result.Output}");
        return ArmTemplate.Load(path);
    }

    public async Task InitializeAsync() => Result = await BicepBuild.RunAsync(RepositoryPaths.Combine("infra"), OutputFolder);

    public Task DisposeAsync()
    {
        Directory.Delete(OutputFolder, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>Bicep tests share one compilation and never restore the CLI concurrently.</summary>
[CollectionDefinition(Name)]
public sealed class BicepCollection : ICollectionFixture<CompiledInfrastructure>
{
    public const string Name = "bicep";
}
