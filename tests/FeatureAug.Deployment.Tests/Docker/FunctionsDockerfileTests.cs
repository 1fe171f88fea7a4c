using System.Text.RegularExpressions;

namespace FeatureAug.Deployment.Tests.Docker;

/// <summary>
/// The repository's Dockerfile, checked without Docker: stages, pinned-distribution base images,
/// the TORCH_FLAVOR build argument reaching restore and publish, the Functions host settings and the
/// non-root user.
/// </summary>
public class FunctionsDockerfileTests
{
    private const string FunctionsProject = "src/FeatureAug.Functions/FeatureAug.Functions.csproj";
    private const string ScriptRoot = "/home/site/wwwroot";

    // Distribution suffixes the .NET and Azure Functions images are published with. A tag without
    // one follows whatever distribution the publisher moves the plain tag to.
    private static readonly string[] KnownDistributions =
    {
        "azurelinux3.0", "azurelinux3", "noble", "resolute", "jammy", "bookworm-slim", "bookworm", "trixie-slim", "trixie",
    };

    private static readonly DockerfileDocument Dockerfile = DockerfileDocument.Load(RepositoryPaths.Combine("Dockerfile"));

    private static DockerStage BuildStage => Dockerfile.Stage("build");
    private static DockerStage RuntimeStage => Dockerfile.Stage("runtime");

    [Fact]
    public void Dockerfile_BuildsInAnSdkStageAndShipsTheRuntimeStage()
    {
        Assert.Equal(new[] { "build", "runtime" }, Dockerfile.Stages.Select(stage => stage.Name));
        Assert.Same(Dockerfile.Stages[^1], RuntimeStage);
    }

    [Fact]
    public void BuildStage_UsesTheDotnet10SdkWithADistributionTag()
    {
        var image = BuildStage.BaseImage;

        Assert.Equal("mcr.microsoft.com", image.Registry);
        Assert.Equal("dotnet/sdk", image.Repository);
        Assert.NotNull(image.Tag);
        Assert.Matches(@"^10\.0(\.\d+)?-", image.Tag);
        Assert.Contains(DistributionOf(image.Tag!, prefixPattern: @"^10\.0(\.\d+)?-"), KnownDistributions);
    }

    [Fact]
    public void RuntimeStage_UsesTheFunctionsDotnetIsolated10ImageWithADistributionTag()
    {
        var image = RuntimeStage.BaseImage;

        Assert.Equal("mcr.microsoft.com", image.Registry);
        Assert.Equal("azure-functions/dotnet-isolated", image.Repository);
        Assert.NotNull(image.Tag);
        Assert.StartsWith("4-dotnet-isolated10.0-", image.Tag);
        Assert.Contains(DistributionOf(image.Tag!, prefixPattern: @"^4-dotnet-isolated10\.0-"), KnownDistributions);
    }

    [Fact]
    public void BuildStage_DeclaresTorchFlavorDefaultingToCpu()
    {
        Assert.True(BuildStage.BuildArguments.TryGetValue("TORCH_FLAVOR", out string? defaultFlavor),
            "the build stage must declare ARG TORCH_FLAVOR (an ARG before FROM is not visible inside a stage)");
        Assert.Equal("cpu", defaultFlavor);
    }

    [Fact]
    public void BuildStage_PassesTorchFlavorToRestoreAndPublishOfTheFunctionsProject()
    {
        var restore = Assert.Single(DotnetCommands(BuildStage), command => command.Verb == "restore");
        var publish = Assert.Single(DotnetCommands(BuildStage), command => command.Verb == "publish");

        foreach (var command in new[] { restore, publish })
        {
            Assert.Equal(new[] { FunctionsProject }, command.Positional);
            Assert.True(command.Properties.TryGetValue("TorchSharpFlavor", out string? flavor), $"dotnet {command.Verb} lacks -p:TorchSharpFlavor");
            Assert.Matches(@"^\$(\{TORCH_FLAVOR\}|TORCH_FLAVOR)$", flavor);
            Assert.Equal("linux-x64", command.Options["-r"]);
        }
    }

    [Fact]
    public void BuildStage_PublishesReleaseForLinuxWithTheWeakGlibcxxMarkingForced()
    {
        var publish = Assert.Single(DotnetCommands(BuildStage), command => command.Verb == "publish");

        Assert.Equal("Release", publish.Options["-c"]);
        Assert.Equal("false", publish.Options["--self-contained"]);
        Assert.Equal("true", publish.Properties["TorchSharpWeakGlibcxx"]);
        Assert.True(publish.Options.ContainsKey("-o"), "the publish step must write to an explicit folder the runtime stage copies");
    }

    [Fact]
    public void RuntimeStage_CopiesThePublishOutputIntoTheScriptRoot()
    {
        string publishFolder = DotnetCommands(BuildStage).Single(command => command.Verb == "publish").Options["-o"];

        var copy = Assert.Single(RuntimeStage.All("COPY"), instruction => instruction.Arguments.Contains("--from=build"));
        var words = DockerfileDocument.SplitWords(copy.Arguments).Where(word => !word.StartsWith("--", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { publishFolder, ScriptRoot }, words.Select(word => word.TrimEnd('/')));
    }

    [Fact]
    public void RuntimeStage_SetsTheFunctionsScriptRootAndConsoleLogging()
    {
        Assert.Equal(ScriptRoot, RuntimeStage.Environment["AzureWebJobsScriptRoot"]);
        Assert.Equal("true", RuntimeStage.Environment["AzureFunctionsJobHost__Logging__Console__IsEnabled"]);
    }

    [Fact]
    public void RuntimeStage_RunsAsANonRootUser()
    {
        string? user = RuntimeStage.FinalUser;

        Assert.NotNull(user);
        // APP_UID is the unprivileged uid (1654) the .NET base images define; a literal must not be root.
        Assert.True(user is "$APP_UID" or "${APP_UID}" || (uint.TryParse(user.Split(':')[0], out uint uid) && uid != 0),
            $"USER '{user}' is root or not a known non-root user");
        var lastUser = RuntimeStage.All("USER").Last();
        Assert.DoesNotContain(RuntimeStage.All("RUN"), run => run.LineNumber > lastUser.LineNumber);
    }

    [Fact]
    public void RuntimeStage_ListensOnThePortTheContainerAppTargets()
    {
        // A non-root process cannot bind port 80, so the host listens on an unprivileged port and the
        // Bicep ingress must point at the same one.
        var listenPort = Regex.Match(RuntimeStage.Environment["ASPNETCORE_URLS"], @":(\d+)$");
        Assert.True(listenPort.Success, "ASPNETCORE_URLS must end in :<port>");
        string bicep = File.ReadAllText(RepositoryPaths.Combine("infra", "main.bicep"));
        var targetPortDefault = Regex.Match(bicep, @"param targetPort int = (\d+)");
        Assert.True(targetPortDefault.Success, "main.bicep must declare 'param targetPort int = <port>'");

        Assert.Equal(targetPortDefault.Groups[1].Value, listenPort.Groups[1].Value);
        Assert.Contains(RuntimeStage.All("EXPOSE"), expose => expose.Arguments == listenPort.Groups[1].Value);
    }

    [Fact]
    public void DockerIgnore_KeepsBuildOutputsOutAndEverythingTheBuildCopiesIn()
    {
        var ignore = DockerIgnore.Parse(File.ReadAllText(RepositoryPaths.Combine(".dockerignore")), ".dockerignore");

        Assert.True(ignore.IsExcluded("src/FeatureAug.Core/bin/Release/net10.0/libtorch_cpu.so"));
        Assert.True(ignore.IsExcluded("src/FeatureAug.Functions/obj/project.assets.json"));
        foreach (var copy in Dockerfile.Stages.SelectMany(stage => stage.All("COPY")).Where(copy => !copy.Arguments.Contains("--from=")))
        {
            var words = DockerfileDocument.SplitWords(copy.Arguments).Where(word => !word.StartsWith("--", StringComparison.Ordinal)).ToList();
            foreach (string source in words.Take(words.Count - 1))
            {
                Assert.False(ignore.IsExcluded(source), $".dockerignore excludes '{source}', which line {copy.LineNumber} copies");
                Assert.True(File.Exists(RepositoryPaths.Combine(source)) || Directory.Exists(RepositoryPaths.Combine(source)) || source.StartsWith("src/FeatureAug.Functions/", StringComparison.Ordinal),
                    $"line {copy.LineNumber} copies '{source}', which is not in the repository");
            }
        }
    }

    [Fact]
    public void PublishScript_PublishesExactlyAsTheBuildStageDoes()
    {
        // CI has no Docker; it runs tools/publish-functions.sh, which must not drift from the image.
        string script = File.ReadAllText(RepositoryPaths.Combine("tools", "publish-functions.sh"));
        var scriptCommands = DotnetCommandLine.FindAll(JoinShellContinuations(script));
        var imageCommands = DotnetCommands(BuildStage);

        foreach (string verb in new[] { "restore", "publish" })
        {
            var inScript = Assert.Single(scriptCommands, command => command.Verb == verb);
            var inImage = Assert.Single(imageCommands, command => command.Verb == verb);
            Assert.Equal(inImage.Properties, inScript.Properties);
            Assert.Equal(
                inImage.Options.Where(option => option.Key != "-o"),
                inScript.Options.Where(option => option.Key != "-o"));
            Assert.Equal(new[] { "$project" }, inScript.Positional);
        }
        Assert.Contains($"project=\"$repo_root/{FunctionsProject}\"", script);
    }

    private static IReadOnlyList<DotnetCommandLine> DotnetCommands(DockerStage stage) =>
        stage.All("RUN").SelectMany(run => DotnetCommandLine.FindAll(run.Arguments)).ToList();

    private static string DistributionOf(string tag, string prefixPattern)
    {
        string suffix = Regex.Replace(tag, prefixPattern, "");
        // Architecture-specific tags (…-amd64) name the same distribution.
        return Regex.Replace(suffix, "-(amd64|arm64v8)$", "");
    }

    private static string JoinShellContinuations(string script) =>
        string.Join('\n', script.Replace("\\\n", " ").Split('\n').Where(line => !line.TrimStart().StartsWith('#')));
}
