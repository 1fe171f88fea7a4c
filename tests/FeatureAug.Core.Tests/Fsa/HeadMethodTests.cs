using System.Text.Json;
using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Tests.Fsa;

public class HeadMethodTests
{
    [Fact]
    public void KeysAreTheStoredNamesInReportOrder()
    {
        // File names (heads/<key>.safetensors) and report.json keys of stored runs: never to change.
        Assert.Equal(new[] { "ce", "noAug", "crt", "crtReinit", "tauNorm", "lws", "logitAdjust", "balancedSoftmax", "fsa" }, HeadMethods.Keys);
        Assert.Equal(new[] { "CE", "No-Aug", "cRT", "cRT (re-init)", "tau-norm", "LWS", "logit adj.", "Balanced Softmax", "FSA" },
            HeadMethods.All.Select(m => m.Display()));
        Assert.Equal(Enum.GetValues<HeadMethod>(), HeadMethods.All);
        // Every method is exactly one of: the Phase-I FC, trained in Phase II, or made post hoc.
        Assert.Equal(HeadMethods.All.Order(), HeadMethods.Trained.Concat(HeadMethods.PostHoc).Append(HeadMethod.CrossEntropy).Order());
    }

    [Fact]
    public void JsonWritesAndReadsTheKey()
    {
        foreach (var method in HeadMethods.All)
        {
            string json = JsonSerializer.Serialize(method);
            Assert.Equal($"\"{method.Key()}\"", json);
            Assert.Equal(method, JsonSerializer.Deserialize<HeadMethod>(json));
            Assert.Equal(json, JsonSerializer.Serialize(method, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        }
    }

    [Fact]
    public void KeysParseBackAndUnknownKeysAreRefused()
    {
        Assert.All(HeadMethods.All, m => Assert.Equal(m, HeadMethods.FromKey(m.Key())));
        Assert.False(HeadMethods.TryFromKey("FSA", out _));   // case-sensitive, as file names are
        Assert.False(HeadMethods.TryFromKey(null, out _));
        Assert.Contains("ce, noAug, crt, crtReinit, tauNorm, lws, logitAdjust, balancedSoftmax, fsa", Assert.Throws<ArgumentException>(() => HeadMethods.FromKey("mse")).Message);
    }
}
