namespace FeatureAug.Deployment.Tests.Docker;

/// <summary>The Dockerfile, image-reference, command-line and .dockerignore readers on small inputs.</summary>
public class DockerfileReaderTests
{
    [Fact]
    public void Parse_JoinsContinuationLinesAndDropsCommentsInsideThem()
    {
        const string text = """
            # syntax=docker/dockerfile:1
            ARG BASE=mcr.microsoft.com/dotnet/sdk:10.0-noble
            FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
            RUN dotnet publish app.csproj \
            # a comment in the middle is removed
                    -c Release \
                    -o /out

            FROM mcr.microsoft.com/dotnet/runtime:10.0-noble
            COPY --from=build /out /app
            """;

        var document = DockerfileDocument.Parse(text, "inline");

        Assert.Equal(new[] { "ARG" }, document.GlobalArguments.Select(instruction => instruction.Keyword));
        Assert.Equal(2, document.Stages.Count);
        var run = Assert.Single(document.Stage("build").All("RUN"));
        Assert.Equal("dotnet publish app.csproj -c Release -o /out", run.Arguments);
        Assert.Equal(4, run.LineNumber);
        Assert.Null(document.Stages[1].Name);
        Assert.Equal("dotnet/runtime", document.Stages[1].BaseImage.Repository);
    }

    [Fact]
    public void Stage_ReadsArgEnvAndUserForms()
    {
        const string text = """
            FROM --platform=linux/amd64 example.com/base:1.2-bookworm AS final
            ARG FLAVOR=cpu
            ARG NO_DEFAULT
            ENV A=1 B="two words" \
                C=/x/y
            ENV LEGACY value with spaces
            ENV A=3
            USER root
            USER 1654
            """;

        var stage = DockerfileDocument.Parse(text, "inline").Stage("final");

        Assert.Equal("cpu", stage.BuildArguments["FLAVOR"]);
        Assert.Null(stage.BuildArguments["NO_DEFAULT"]);
        Assert.Equal("3", stage.Environment["A"]);
        Assert.Equal("two words", stage.Environment["B"]);
        Assert.Equal("/x/y", stage.Environment["C"]);
        Assert.Equal("value with spaces", stage.Environment["LEGACY"]);
        Assert.Equal("1654", stage.FinalUser);
    }

    [Fact]
    public void Parse_RejectsAnInstructionBeforeTheFirstFrom()
    {
        var error = Assert.Throws<FormatException>(() => DockerfileDocument.Parse("ARG X=1\nRUN echo hi\nFROM a:b\n", "bad.Dockerfile"));

        Assert.Contains("bad.Dockerfile:2", error.Message);
        Assert.Contains("RUN", error.Message);
    }

    [Fact]
    public void Parse_RejectsATrailingContinuation()
    {
        var error = Assert.Throws<FormatException>(() => DockerfileDocument.Parse("FROM a:b\nRUN echo \\\n", "cut.Dockerfile"));

        Assert.Contains("cut.Dockerfile:2", error.Message);
    }

    [Fact]
    public void Stage_NamesTheKnownStagesWhenTheRequestedOneIsMissing()
    {
        var document = DockerfileDocument.Parse("FROM a:b AS build\nFROM c:d AS runtime\n", "inline");

        var error = Assert.Throws<KeyNotFoundException>(() => document.Stage("test"));

        Assert.Contains("build, runtime", error.Message);
    }

    [Theory]
    [InlineData("mcr.microsoft.com/dotnet/sdk:10.0-azurelinux3.0", "mcr.microsoft.com", "dotnet/sdk", "10.0-azurelinux3.0", null)]
    [InlineData("localhost:5000/app:1@sha256:abc", "localhost:5000", "app", "1", "sha256:abc")]
    [InlineData("library/ubuntu", null, "library/ubuntu", null, null)]
    [InlineData("ubuntu:24.04", null, "ubuntu", "24.04", null)]
    public void ImageReference_SplitsRegistryRepositoryTagAndDigest(string text, string? registry, string repository, string? tag, string? digest)
    {
        Assert.Equal(new ContainerImageReference(registry, repository, tag, digest), ContainerImageReference.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("repo:")]
    [InlineData("repo@")]
    [InlineData("two words")]
    public void ImageReference_RejectsMalformedReferences(string text)
    {
        Assert.Throws<FormatException>(() => ContainerImageReference.Parse(text));
    }

    [Fact]
    public void DotnetCommandLine_SplitsChainedCommandsIntoProjectOptionsAndProperties()
    {
        var commands = DotnetCommandLine.FindAll(
            "mkdir -p /out && dotnet publish \"src/App/App.csproj\" -c Release -r linux-x64 --self-contained false -p:A=1 /p:B=x=y --nologo; echo done");

        var publish = Assert.Single(commands);
        Assert.Equal("publish", publish.Verb);
        Assert.Equal(new[] { "src/App/App.csproj" }, publish.Positional);
        Assert.Equal("Release", publish.Options["-c"]);
        Assert.Equal("false", publish.Options["--self-contained"]);
        Assert.Equal("", publish.Options["--nologo"]);
        Assert.Equal("1", publish.Properties["A"]);
        Assert.Equal("x=y", publish.Properties["B"]);
    }

    [Fact]
    public void DockerIgnore_MatchesNestedFoldersAndLeavesOtherPathsIn()
    {
        var ignore = DockerIgnore.Parse("# build outputs\n**/bin/\n**/obj/\ntests/\n*.md\n", "inline");

        Assert.True(ignore.IsExcluded("src/App/bin/Release/app.dll"));
        Assert.True(ignore.IsExcluded("obj/project.assets.json"));
        Assert.True(ignore.IsExcluded("tests/Unit/UnitTests.cs"));
        Assert.True(ignore.IsExcluded("README.md"));
        Assert.False(ignore.IsExcluded("docs/README.md"));
        Assert.False(ignore.IsExcluded("src/App/Program.cs"));
        Assert.False(ignore.IsExcluded("src/binary/data.txt"));
    }

    [Fact]
    public void DockerIgnore_RejectsReinclusionItCannotModel()
    {
        var error = Assert.Throws<FormatException>(() => DockerIgnore.Parse("**/bin/\n!keep/bin/\n", ".dockerignore"));

        Assert.Contains(".dockerignore:2", error.Message);
    }
}
