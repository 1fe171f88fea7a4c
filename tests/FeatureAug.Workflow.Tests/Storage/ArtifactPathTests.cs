using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Tests.Storage;

public sealed class ArtifactPathTests
{
    [Fact]
    public void LayoutHelpersBuildTheDocumentedPaths()
    {
        Assert.Equal("datasets/fashion-mnist-lt", ArtifactPath.Dataset("fashion-mnist-lt"));
        Assert.Equal("runs/2024-06-01_r1", ArtifactPath.Run("2024-06-01_r1"));
        Assert.Equal("runs/r1/checkpoints", new RunLayout("r1").Checkpoints);
        Assert.Equal("runs/r1/features", new RunLayout("r1").Features);
        Assert.Equal("runs/r1/fused", new RunLayout("r1").Fused);
        Assert.Equal("runs/r1/reports", new RunLayout("r1").Reports);
        Assert.Equal("models/resnet.v2", ArtifactPath.Model("resnet.v2"));
        Assert.Equal("models/m/champion.json", ArtifactPath.ModelChampion("m"));
        Assert.Equal("models/m/history", ArtifactPath.ModelHistory("m"));
        Assert.Equal("models/m/heads", ArtifactPath.ModelHeads("m"));
        Assert.Equal("models/m/backbones", ArtifactPath.ModelBackbones("m"));
        Assert.Equal("runs/r1/checkpoints/epoch-0003.pt", ArtifactPath.Combine(new RunLayout("r1").Checkpoints, "epoch-0003.pt"));
        Assert.Equal("models/m/history/0001.json", ArtifactPath.Combine("models/m", "history", "0001.json"));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("R1")]
    [InlineData("0")]
    [InlineData("run-2024.06.01_seed_7")]
    [InlineData("a.b")]
    public void ValidIdentifiersPass(string value)
    {
        Assert.Equal(value, ArtifactPath.ValidateIdentifier(value, "run id"));
        Assert.True(ArtifactPath.IsValidIdentifier(value));
    }

    [Fact]
    public void IdentifierOfMaximumLengthPassesAndOneLongerFails()
    {
        string longest = new('x', ArtifactPath.MaxIdentifierLength);
        Assert.Equal(longest, ArtifactPath.Run(longest)[5..]);

        var error = Assert.Throws<ArgumentException>(() => ArtifactPath.Run(longest + "x"));
        Assert.Contains("has 64 characters; the limit is 63", error.Message);
        Assert.Contains("run id", error.Message);
    }

    [Theory]
    [InlineData("..", "contains \"..\"")]
    [InlineData("a..b", "contains \"..\"")]
    [InlineData("../etc", "path separator '/'")]
    [InlineData("a/b", "path separator '/' at position 1")]
    [InlineData("a\\b", "path separator '\\' at position 1")]
    [InlineData("a\u0000b", "control character U+0000 at position 1")]
    [InlineData("a\tb", "control character U+0009")]
    [InlineData("a\u007fb", "control character U+007F")]
    [InlineData("", "it is empty")]
    [InlineData(".hidden", "must start with a letter or digit")]
    [InlineData("-flag", "must start with a letter or digit")]
    [InlineData("name.", "may not end with '.'")]
    [InlineData("a b", "contains ' ' at position 1")]
    [InlineData("caf\u00e9", "only ASCII letters")]
    [InlineData("a:b", "contains ':'")]
    public void InvalidModelNamesAreRejectedWithTheBrokenRule(string value, string expectedProblem)
    {
        var error = Assert.Throws<ArgumentException>(() => ArtifactPath.Model(value));

        Assert.Contains("model name", error.Message);
        Assert.Contains(expectedProblem, error.Message);
        Assert.False(ArtifactPath.IsValidIdentifier(value));
    }

    [Fact]
    public void ControlCharactersAreShownEscapedInMessages()
    {
        var error = Assert.Throws<ArgumentException>(() => ArtifactPath.Dataset("bad\nname"));

        Assert.Contains("'bad\\u000aname'", error.Message);
        Assert.DoesNotContain("\n", error.Message);
    }

    [Fact]
    public void NullIdentifierIsRejected()
    {
        Assert.Throws<ArgumentNullException>(() => ArtifactPath.Run(null!));
    }

    [Theory]
    [InlineData("runs/r1/checkpoints/epoch-0001.pt")]
    [InlineData("models/m/champion.json")]
    [InlineData("x")]
    public void ValidPathsPass(string path) => Assert.Equal(path, ArtifactPath.Validate(path));

    [Theory]
    [InlineData("/runs", "it is empty")]
    [InlineData("runs/", "it is empty")]
    [InlineData("runs//r1", "it is empty")]
    [InlineData("runs/../x", "contains \"..\"")]
    [InlineData("runs\\r1", "path separator '\\'")]
    public void InvalidPathsAreRejectedWithTheBrokenRule(string path, string expectedProblem)
    {
        var error = Assert.Throws<ArgumentException>(() => ArtifactPath.Validate(path));
        Assert.Contains(expectedProblem, error.Message);
    }

    [Fact]
    public void OverlongSegmentAndPathAreRejected()
    {
        Assert.Throws<ArgumentException>(() => ArtifactPath.Validate("runs/" + new string('a', ArtifactPath.MaxSegmentLength + 1)));
        string tooLong = string.Join('/', Enumerable.Repeat(new string('a', 99), 11));
        var error = Assert.Throws<ArgumentException>(() => ArtifactPath.Validate(tooLong));
        Assert.Contains($"the limit is {ArtifactPath.MaxPathLength}", error.Message);
    }

    [Fact]
    public void CombineRejectsSegmentsThatWouldAddStructure()
    {
        Assert.Throws<ArgumentException>(() => ArtifactPath.Combine("runs/r1", "../r2"));
        Assert.Throws<ArgumentException>(() => ArtifactPath.Combine("runs/r1", "a/b"));
        Assert.Throws<ArgumentException>(() => ArtifactPath.Combine("runs/../r1", "a"));
    }

    [Fact]
    public void EmptyPrefixMeansEverythingButOtherPrefixesAreValidated()
    {
        Assert.Equal("", ArtifactPath.ValidatePrefix(""));
        Assert.Equal("runs/r1", ArtifactPath.ValidatePrefix("runs/r1"));
        Assert.Throws<ArgumentException>(() => ArtifactPath.ValidatePrefix("runs/"));
    }
}
