using FeatureAug.Functions.Triggers;

namespace FeatureAug.Functions.Tests;

/// <summary>
/// The blob trigger watches container datasets with pattern {name}/dataset.json, whose {name} may span '/';
/// the handler's filter decides. Blob names here are inside that container.
/// </summary>
public sealed class UploadPathFilterTests
{
    [Theory]
    [InlineData("shelves/dataset.json", "shelves")]
    [InlineData("fashion-mnist_lt.v2/dataset.json", "fashion-mnist_lt.v2")]
    public void ManifestOfADataset_GivesItsName(string blobName, string expected)
    {
        Assert.Equal(expected, DatasetUploadHandler.DatasetNameOf(blobName, out string? problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("a/b/dataset.json", "path separator '/'")]
    [InlineData("../dataset.json", "\"..\"")]
    [InlineData(".hidden/dataset.json", "must start with a letter or digit")]
    [InlineData("/dataset.json", "is not of the form")]
    [InlineData("dataset.json", "blob 'dataset.json' in container datasets is not of the form <name>/dataset.json.")]
    [InlineData("shelves/Dataset.json", "is not of the form")]
    [InlineData("shelves/dataset.json.tmp", "is not of the form")]
    [InlineData("shelves/train/dataset.json", "path separator '/'")]
    // The old single-container layout's name: "datasets" would be taken for part of the data set's name.
    [InlineData("datasets/shelves/dataset.json", "path separator '/'")]
    public void OtherBlobs_AreRejectedWithAReason(string blobName, string reason)
    {
        Assert.Null(DatasetUploadHandler.DatasetNameOf(blobName, out string? problem));
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void TriggerPath_WatchesManifestsInTheDatasetsContainer()
    {
        Assert.Equal("datasets/{name}/dataset.json", DatasetUploadFunction.BlobPath);
        Assert.Equal("datasets/shelves/dataset.json", DatasetUploadHandler.ManifestPath("shelves"));
    }
}
