using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Functions.Tests;

public sealed class RunIdsTests
{
    private static readonly DateTimeOffset Night = new(2026, 1, 31, 2, 0, 0, TimeSpan.Zero);

    [Fact]
    public void UploadId_IsDerivedFromNameAndETag()
    {
        string id = RunIds.ForDatasetUpload("shelves", "\"0x8DC1\"");

        Assert.Equal(id, RunIds.ForDatasetUpload("shelves", "\"0x8DC1\""));
        Assert.NotEqual(id, RunIds.ForDatasetUpload("shelves", "\"0x8DC2\""));
        Assert.Matches("^upload-shelves-[0-9a-f]{12}$", id);
    }

    [Fact]
    public void UploadId_OfTheLongestName_FitsAndStaysDistinct()
    {
        string a = new string('a', 62) + "1", b = new string('a', 62) + "2";

        string idA = RunIds.ForDatasetUpload(a, "e"), idB = RunIds.ForDatasetUpload(b, "e");

        Assert.Equal(ArtifactPath.MaxIdentifierLength, idA.Length);
        Assert.NotEqual(idA, idB);
        Assert.True(ArtifactPath.IsValidIdentifier(idA));
    }

    [Fact]
    public void UploadId_ShorteningNeverLeavesAForbiddenEnding()
    {
        // 43 characters fit; the 43rd here is '.', which the cut must not leave before the '-'.
        string name = new string('b', 42) + ".c" + new string('d', 19);

        string id = RunIds.ForDatasetUpload(name, "e");

        Assert.True(ArtifactPath.IsValidIdentifier(id));
        Assert.StartsWith("upload-" + new string('b', 42) + "-", id);
    }

    [Fact]
    public void NightlyId_IsModelAndUtcDay()
    {
        Assert.Equal("nightly-shelves-20260131", RunIds.ForNightlyRebalance("shelves", Night));
        // 23:30 in UTC-5 is already the next UTC day.
        Assert.Equal("nightly-shelves-20260201", RunIds.ForNightlyRebalance("shelves", new DateTimeOffset(2026, 1, 31, 23, 30, 0, TimeSpan.FromHours(-5))));
    }

    [Fact]
    public void NightlyId_OfALongModelName_KeepsTheDayAndAHashOfTheName()
    {
        string a = new string('m', 63), b = new string('m', 62) + "n";

        string idA = RunIds.ForNightlyRebalance(a, Night), idB = RunIds.ForNightlyRebalance(b, Night);

        Assert.Equal(63, idA.Length);
        Assert.EndsWith("-20260131", idA);
        Assert.Matches("^nightly-m{37}-[0-9a-f]{8}-20260131$", idA);
        Assert.NotEqual(idA, idB);
    }

    [Fact]
    public void ApiId_IsFreshAndValid()
    {
        string first = RunIds.NewForApi(Night), second = RunIds.NewForApi(Night);

        Assert.Matches("^run-20260131-020000-[0-9a-f]{8}$", first);
        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("")]
    public void InvalidNames_AreRejected(string name)
    {
        Assert.ThrowsAny<ArgumentException>(() => RunIds.ForDatasetUpload(name, "e"));
        Assert.ThrowsAny<ArgumentException>(() => RunIds.ForNightlyRebalance(name, Night));
    }
}
