using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow.Triggers;

namespace FeatureAug.Functions.Tests;

/// <summary>The blob trigger's pattern datasets/{name}/dataset.json lets {name} span '/'; the handler's filter decides.</summary>
public sealed class UploadPathFilterTests
{
    [Theory]
    [InlineData("datasets/shelves/dataset.json", "shelves")]
    [InlineData("datasets/fashion-mnist_lt.v2/dataset.json", "fashion-mnist_lt.v2")]
    public void ManifestOfADataset_GivesItsName(string blobName, string expected)
    {
        Assert.Equal(expected, DatasetUploadHandler.DatasetNameOf(blobName, out string? problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("datasets/a/b/dataset.json", "path separator '/'")]
    [InlineData("datasets/../dataset.json", "\"..\"")]
    [InlineData("datasets/.hidden/dataset.json", "must start with a letter or digit")]
    [InlineData("datasets//dataset.json", "is not of the form")]
    [InlineData("datasets/shelves/Dataset.json", "is not of the form")]
    [InlineData("datasets/shelves/dataset.json.tmp", "is not of the form")]
    [InlineData("runs/shelves/dataset.json", "is not of the form")]
    [InlineData("datasets/shelves/train/dataset.json", "path separator '/'")]
    public void OtherBlobs_AreRejectedWithAReason(string blobName, string reason)
    {
        Assert.Null(DatasetUploadHandler.DatasetNameOf(blobName, out string? problem));
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void TriggerPath_WatchesTheConfiguredContainersDatasetsFolder()
    {
        Assert.Equal("%DatasetUploadContainer%/datasets/{name}/dataset.json", DatasetUploadFunction.BlobPath);
        Assert.Equal("datasets/shelves/dataset.json", DatasetUploadHandler.ManifestPath("shelves"));
    }
}
