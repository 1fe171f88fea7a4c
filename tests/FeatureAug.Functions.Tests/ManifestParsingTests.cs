using System.Text;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow.Inputs;

namespace FeatureAug.Functions.Tests;

public sealed class ManifestParsingTests
{
    internal const string ValidManifest = """
        {
          "name": "shelves",
          "format": "imagefolder",
          "paths": ["train/", "test/"],
          "classes": ["cereal", "coffee", "tea"],
          "imageSize": 32,
          "channels": 3,
          "modelName": "shelves-resnet8",
          "architecture": "resnet8",
          "nightlyRebalance": true
        }
        """;

    private static (DatasetManifest? Manifest, FieldErrors Errors) Parse(string json)
    {
        var errors = new FieldErrors();
        return (DatasetManifest.Parse(Encoding.UTF8.GetBytes(json), errors), errors);
    }

    [Fact]
    public void ValidManifest_ParsesEveryField()
    {
        var (manifest, errors) = Parse(ValidManifest);

        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.NotNull(manifest);
        Assert.Equal("shelves", manifest.Name);
        Assert.Equal("imagefolder", manifest.Format);
        Assert.Equal(["train/", "test/"], manifest.Paths);
        Assert.Equal(["cereal", "coffee", "tea"], manifest.Classes);
        Assert.Equal(32, manifest.ImageSize);
        Assert.Equal(3, manifest.Channels);
        Assert.Equal("shelves-resnet8", manifest.ModelName);
        Assert.Equal("resnet8", manifest.Architecture);
        Assert.True(manifest.NightlyRebalance);
        Assert.Null(manifest.Mode);
        manifest.Validate("shelves", errors);
        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal(new FeatureAug.Workflow.Inputs.DatasetReference(Kind: "imagefolder", StoreName: "shelves", ImageSize: 32, Channels: 3),
            manifest.ToDatasetReference());
    }

    [Fact]
    public void MissingRequiredFields_AreEachNamed()
    {
        var (manifest, errors) = Parse("""{ "name": "shelves", "format": "idx", "paths": ["a"] }""");

        Assert.Null(manifest);
        var fields = errors.ToDictionary();
        Assert.Equal(new[] { "classes", "imageSize", "channels", "modelName", "nightlyRebalance" }, fields.Keys.ToArray());
        Assert.All(fields.Values, messages => Assert.Equal(["required field is missing."], messages));
    }

    [Fact]
    public void UnknownFields_AreNamed_WithAHintForWrongCase()
    {
        string json = ValidManifest.Replace("\"channels\": 3,", "\"channels\": 3, \"colour\": true, \"ImageSize\": 32,");

        var (manifest, errors) = Parse(json);

        Assert.Null(manifest);
        var fields = errors.ToDictionary();
        Assert.Equal(new[] { "colour", "ImageSize" }, fields.Keys.ToArray());
        Assert.StartsWith("unknown field; expected one of: name, format, paths,", fields["colour"][0]);
        Assert.Equal("unknown field; did you mean 'imageSize'? Names are case-sensitive.", fields["ImageSize"][0]);
    }

    [Fact]
    public void WrongType_NamesTheFieldAndTheExpectedType()
    {
        var (manifest, errors) = Parse(ValidManifest.Replace("\"imageSize\": 32", "\"imageSize\": \"32\""));

        Assert.Null(manifest);
        Assert.Equal(["expected a whole number."], errors.ToDictionary()["imageSize"]);
    }

    [Fact]
    public void WrongElementType_NamesTheElement()
    {
        var (_, errors) = Parse(ValidManifest.Replace("\"test/\"]", "7]"));

        Assert.Equal(["paths[1]"], errors.ToDictionary().Keys);
        Assert.Equal(["expected a string."], errors.ToDictionary()["paths[1]"]);
    }

    [Fact]
    public void NullForARequiredString_IsRejected()
    {
        var (manifest, errors) = Parse(ValidManifest.Replace("\"modelName\": \"shelves-resnet8\"", "\"modelName\": null"));

        Assert.Null(manifest);
        Assert.True(errors.Contains("modelName"), errors.ToString());
    }

    [Fact]
    public void DuplicateField_IsRejected()
    {
        var (_, errors) = Parse(ValidManifest.Replace("\"channels\": 3,", "\"channels\": 3, \"channels\": 1,"));

        Assert.Equal(["the field appears more than once."], errors.ToDictionary()["channels"]);
    }

    [Theory]
    [InlineData("", "the document is empty; expected a JSON object.")]
    [InlineData("[1, 2]", "expected a JSON object, got an array.")]
    public void NotAnObject_IsADocumentError(string json, string message)
    {
        var (manifest, errors) = Parse(json);

        Assert.Null(manifest);
        Assert.Equal([message], errors.ToDictionary()[""]);
    }

    [Fact]
    public void BrokenJson_SaysWhere()
    {
        var (_, errors) = Parse("{ \"name\": \"x\",, }");

        string message = Assert.Single(errors.ToDictionary()[""]);
        Assert.StartsWith("not valid JSON:", message);
        Assert.Contains("(line 1, byte", message);
    }

    [Fact]
    public void Validate_ChecksValuesAgainstTheFormatAndTheFolder()
    {
        string json = ValidManifest
            .Replace("\"name\": \"shelves\"", "\"name\": \"other\"")
            .Replace("\"format\": \"imagefolder\"", "\"format\": \"cifar\"")
            .Replace("\"imageSize\": 32", "\"imageSize\": 28")
            .Replace("\"test/\"]", "\"../etc/passwd\"]")
            .Replace("\"nightlyRebalance\": true", "\"nightlyRebalance\": true, \"mode\": \"incremental\"");
        var (manifest, errors) = Parse(json);
        Assert.True(errors.IsEmpty, errors.ToString());

        manifest!.Validate("shelves", errors);

        var fields = errors.ToDictionary();
        Assert.Equal(new[] { "name", "classes", "imageSize", "mode", "paths[1]" }, fields.Keys.ToArray());
        Assert.Contains("differs from the folder the manifest is in (datasets/shelves/)", fields["name"][0]);
        Assert.Equal(["CIFAR has 10 or 100 classes, the manifest lists 3."], fields["classes"]);
        Assert.Equal(["CIFAR images are 32x32, got 28."], fields["imageSize"]);
        Assert.Equal(["must be full or rebalance, got 'incremental'."], fields["mode"]);
        Assert.Contains("contains \"..\"", fields["paths[1]"][0]);
    }

    [Theory]
    [InlineData("idx", 1, 2, "idx")]
    [InlineData("cifar", 3, 10, "cifar10")]
    [InlineData("cifar", 3, 100, "cifar100")]
    [InlineData("imagefolder", 1, 4, "imagefolder")]
    public void CatalogKind_FollowsFormatAndClassCount(string format, int channels, int classes, string kind)
    {
        var manifest = new DatasetManifest
        {
            Name = "d", Format = format, Paths = ["f"], Classes = Enumerable.Range(0, classes).Select(i => $"c{i}").ToArray(),
            ImageSize = 32, Channels = channels, ModelName = "m", NightlyRebalance = false,
        };
        var errors = new FieldErrors();
        manifest.Validate("d", errors);

        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal(kind, manifest.CatalogKind);
        Assert.Equal(format == "imagefolder" ? 32 : null, manifest.ToDatasetReference().ImageSize);
    }

    [Fact]
    public void Validate_ReportsEmptyAndRepeatedClasses_AndIdxChannels()
    {
        var manifest = new DatasetManifest
        {
            Name = "d", Format = "idx", Paths = [], Classes = ["a", "", "a"], ImageSize = 28, Channels = 3,
            ModelName = "bad/name", NightlyRebalance = false,
        };
        var errors = new FieldErrors();

        manifest.Validate("d", errors);

        var fields = errors.ToDictionary();
        Assert.Equal(["is empty."], fields["classes[1]"]);
        Assert.Equal(["names must be distinct; repeated: a."], fields["classes"]);
        Assert.Equal(["IDX images have 1 channel, got 3."], fields["channels"]);
        Assert.Equal(["lists no files; name every file (or folder, ending in '/') of the data set."], fields["paths"]);
        Assert.Contains("path separator '/'", fields["modelName"][0]);
    }
}
