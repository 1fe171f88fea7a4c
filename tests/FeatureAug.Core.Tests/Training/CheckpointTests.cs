using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FeatureAug.Core.Models;
using FeatureAug.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Tests.Training;

[Collection(GlobalTorchRandomCollection.Name)]
public sealed class CheckpointTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "featureaug-ckpt-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }

    private static CheckpointState State(int epoch) =>
        new(epoch, Seed: 3, OptionsHash: "0123456789abcdef", TrainImages: 24, EpochLosses: Enumerable.Range(1, epoch).Select(e => 1.0 / e).ToArray());

    private static FeatureClassifier Model(int seed)
    {
        torch.manual_seed(seed);
        return ModelFactory.Create("resnet8", inputChannels: 1, numClasses: 3);
    }

    /// <summary>The tensor names and JSON entries of a safetensors header (8-byte little-endian length, then JSON).</summary>
    private static Dictionary<string, JsonElement> Header(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int length = (int)BitConverter.ToUInt64(bytes, 0);
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Encoding.UTF8.GetString(bytes, 8, length))!;
    }

    [Fact]
    public void SavesSafetensorsWithPyTorchNamesAndAManifest()
    {
        using var scope = torch.NewDisposeScope();
        using var model = Model(0);
        var momentum = new Dictionary<string, Tensor> { ["fc.bias"] = torch.tensor(new float[] { 1, 2, 3 }) };
        var manifest = Checkpoint.Save(directory, State(2), model, momentum);

        Assert.Equal(
            new[] { "epoch-0002.json", "epoch-0002.model.safetensors", "epoch-0002.optimizer.safetensors" },
            Directory.GetFiles(directory).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));
        var header = Header(Path.Combine(directory, manifest.ModelFile));
        Assert.Equal(model.state_dict().Keys.OrderBy(k => k), header.Keys.OrderBy(k => k));
        Assert.Equal("F32", header["conv1.weight"].GetProperty("dtype").GetString());
        Assert.Equal(new long[] { 16, 1, 3, 3 }, header["conv1.weight"].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Contains("layer1.0.bn1.running_mean", header.Keys);

        using (var stream = File.OpenRead(Path.Combine(directory, manifest.ModelFile)))
            Assert.Equal(Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant(), manifest.ModelSha256);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "epoch-0002.json"))).RootElement;
        Assert.Equal(2, json.GetProperty("epoch").GetInt32());
        Assert.Equal("0123456789abcdef", json.GetProperty("state").GetProperty("optionsHash").GetString());
        Assert.Equal(manifest.OptimizerSha256, json.GetProperty("optimizerSha256").GetString());
    }

    [Fact]
    public void RoundTripsModelAndOptimizerState()
    {
        using var scope = torch.NewDisposeScope();
        using var saved = Model(0);
        var momentum = new Dictionary<string, Tensor> { ["fc.weight"] = torch.arange(3 * 64, dtype: ScalarType.Float32).reshape(3, 64) };
        Checkpoint.Save(directory, State(1), saved, momentum);

        var manifest = Checkpoint.FindLatest(directory)!;
        Assert.Equal(State(1).EpochLosses, manifest.State.EpochLosses);
        using var loaded = Model(1);
        Checkpoint.LoadModel(directory, manifest, loaded);
        var expected = saved.state_dict();
        var actual = loaded.state_dict();
        Assert.All(expected.Keys, key => Assert.True(expected[key].Equals(actual[key]), key));

        var optimizer = Checkpoint.LoadOptimizerState(directory, manifest);
        Assert.Equal(new[] { "fc.weight" }, optimizer.Keys);
        Assert.True(optimizer["fc.weight"].Equals(momentum["fc.weight"]));
    }

    [Fact]
    public void FindsTheNewestCheckpointAtOrBeforeAnEpoch()
    {
        Assert.Null(Checkpoint.FindLatest(directory));
        using var model = Model(0);
        foreach (int epoch in new[] { 1, 2, 3 }) Checkpoint.Save(directory, State(epoch), model, new Dictionary<string, Tensor>());
        File.WriteAllText(Path.Combine(directory, "epoch-0004.json.abc.tmp"), "{ half written");

        Assert.Equal(3, Checkpoint.FindLatest(directory)!.Epoch);
        Assert.Equal(2, Checkpoint.FindLatest(directory, maxEpoch: 2)!.Epoch);
        Assert.Null(Checkpoint.FindLatest(directory, maxEpoch: 0));

        Checkpoint.Prune(directory, keep: 2);
        Assert.Equal(new[] { 2, 3 }, Checkpoint.List(directory).Select(m => m.Epoch));
        Assert.False(File.Exists(Path.Combine(directory, "epoch-0001.model.safetensors")));
    }

    [Fact]
    public void ACorruptedTensorFileIsRefusedByName()
    {
        using var model = Model(0);
        var manifest = Checkpoint.Save(directory, State(1), model, new Dictionary<string, Tensor>());
        string path = Path.Combine(directory, manifest.ModelFile);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.LoadModel(directory, manifest, model));
        Assert.Contains(path, error.Message);
        Assert.Contains("SHA-256", error.Message);

        File.Delete(Path.Combine(directory, manifest.OptimizerFile));
        Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => Checkpoint.LoadOptimizerState(directory, manifest)).Message);
    }

    [Fact]
    public void AnUnreadableManifestIsRefusedByName()
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "epoch-0001.json");
        File.WriteAllText(path, "{ not json");
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.FindLatest(directory));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void AModelOfAnotherShapeIsRefused()
    {
        using var model = Model(0);
        var manifest = Checkpoint.Save(directory, State(1), model, new Dictionary<string, Tensor>());
        torch.manual_seed(0);
        using var other = ModelFactory.Create("resnet20", inputChannels: 1, numClasses: 3);
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.LoadModel(directory, manifest, other));
        Assert.Contains(manifest.ModelFile, error.Message);
    }
}
