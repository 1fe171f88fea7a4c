namespace FeatureAug.Deployment.Tests.Bicep;

/// <summary>tools/bicep-build.sh: infra/ compiles cleanly, and the gate really fails on warnings and errors.</summary>
[Collection(BicepCollection.Name)]
public class BicepBuildTests
{
    private readonly CompiledInfrastructure _infrastructure;

    public BicepBuildTests(CompiledInfrastructure infrastructure) => _infrastructure = infrastructure;

    [Fact]
    public void Infra_CompilesWithoutErrorsOrWarnings()
    {
        var result = _infrastructure.Result;

        Assert.True(result.ExitCode == 0, $"bicep-build failed:\n{result.Output}");
        Assert.DoesNotContain(" : Warning ", result.Output);
        Assert.DoesNotContain(" : Error ", result.Output);
    }

    [Fact]
    public void Infra_EveryTemplateAndParameterFileIsCompiled()
    {
        string infra = RepositoryPaths.Combine("infra");
        var sources = Directory.EnumerateFiles(infra, "*.bicep", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(infra, "*.bicepparam", SearchOption.AllDirectories))
            .Select(path => Path.GetRelativePath(infra, path))
            .ToList();

        Assert.Contains("main.bicep", sources);
        Assert.Contains("main.dev.bicepparam", sources);
        foreach (string source in sources)
        {
            // main.bicep -> main.json, main.dev.bicepparam -> main.dev.json
            string compiled = Path.ChangeExtension(source, ".json");
            Assert.True(File.Exists(Path.Combine(_infrastructure.OutputFolder, compiled)), $"{source} produced no {compiled}");
        }
    }

    [Fact]
    public async Task Script_FailsOnALinterWarning()
    {
        using var folder = new TemporaryFolder();
        File.WriteAllText(Path.Combine(folder.Path, "unused.bicep"), "param neverUsed string\n");

        var result = await BicepBuild.RunAsync(folder.Path, Path.Combine(folder.Path, "out"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Warning no-unused-params", result.Output);
        Assert.Contains("unused.bicep", result.Output);
    }

    [Fact]
    public async Task Script_FailsOnACompileErrorInAParameterFile()
    {
        using var folder = new TemporaryFolder();
        File.WriteAllText(Path.Combine(folder.Path, "main.bicep"), "param size int\noutput doubled int = size * 2\n");
        File.WriteAllText(Path.Combine(folder.Path, "main.bicepparam"), "using './main.bicep'\nparam size = 'not a number'\n");

        var result = await BicepBuild.RunAsync(folder.Path, Path.Combine(folder.Path, "out"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(" : Error ", result.Output);
        Assert.Contains("main.bicepparam", result.Output);
    }

    private sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("featureaug-bicep-case-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
