using System.Text.Json.Serialization;

namespace FeatureAug.Core.Fsa;

/// <summary>
/// The classifier heads a run compares side by side (spec/fsa.md, "Baselines"), in report order. Each has a stable
/// key (<see cref="HeadMethods.Key"/>: head file names, report.json method keys, the API) and a display name; JSON
/// writes the key.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<HeadMethod>))]
public enum HeadMethod
{
    /// <summary>The Phase-I FC as it is.</summary>
    [JsonStringEnumMemberName("ce")]
    CrossEntropy,

    /// <summary>Phase II with the fused slots filled with real tail samples (the paper's ablation).</summary>
    [JsonStringEnumMemberName("noAug")]
    NoAug,

    /// <summary>Classifier re-training with class-balanced sampling, warm-started from the Phase-I FC.</summary>
    [JsonStringEnumMemberName("crt")]
    Crt,

    /// <summary>cRT as Kang et al. specify it: a re-initialised FC, class-balanced sampling, cosine decay, weight decay 5e-4.</summary>
    [JsonStringEnumMemberName("crtReinit")]
    CrtReinit,

    /// <summary>FC rows divided by ||w_c||^tau, no training (Kang et al.).</summary>
    [JsonStringEnumMemberName("tauNorm")]
    TauNorm,

    /// <summary>Learnable weight scaling (Kang et al.): one learned scale per class on the frozen Phase-I FC, class-balanced sampling.</summary>
    [JsonStringEnumMemberName("lws")]
    Lws,

    /// <summary>Post-hoc logit adjustment (Menon et al., ICLR 2021): Phase-I logits minus tau log(class prior).</summary>
    [JsonStringEnumMemberName("logitAdjust")]
    LogitAdjust,

    /// <summary>Balanced Softmax (Ren et al., NeurIPS 2020): the FC re-trained on instance-sampled batches with logits + log(n_c) in the loss.</summary>
    [JsonStringEnumMemberName("balancedSoftmax")]
    BalancedSoftmax,

    /// <summary>Feature Space Augmentation.</summary>
    [JsonStringEnumMemberName("fsa")]
    Fsa,
}

/// <summary>The stored keys and display names of <see cref="HeadMethod"/>.</summary>
public static class HeadMethods
{
    /// <summary>Every method, in report order.</summary>
    public static IReadOnlyList<HeadMethod> All { get; } =
        [HeadMethod.CrossEntropy, HeadMethod.NoAug, HeadMethod.Crt, HeadMethod.CrtReinit, HeadMethod.TauNorm, HeadMethod.Lws,
         HeadMethod.LogitAdjust, HeadMethod.BalancedSoftmax, HeadMethod.Fsa];

    /// <summary>The methods Phase II trains on stored features (one FineTuneHead activity each), in report order.</summary>
    public static IReadOnlyList<HeadMethod> Trained { get; } =
        [HeadMethod.NoAug, HeadMethod.Crt, HeadMethod.CrtReinit, HeadMethod.Lws, HeadMethod.BalancedSoftmax, HeadMethod.Fsa];

    /// <summary>The methods made from the Phase-I FC without training, each with one parameter chosen on validation.</summary>
    public static IReadOnlyList<HeadMethod> PostHoc { get; } = [HeadMethod.TauNorm, HeadMethod.LogitAdjust];

    /// <summary>The stored key of every method, in report order.</summary>
    public static IReadOnlyList<string> Keys { get; } = All.Select(Key).ToArray();

    /// <summary>
    /// The stored key: heads/&lt;key&gt;.safetensors, the method's entry in report.json and in run results. These
    /// strings are file names and JSON keys of runs already stored; they never change.
    /// </summary>
    public static string Key(this HeadMethod method) => method switch
    {
        HeadMethod.CrossEntropy => "ce",
        HeadMethod.NoAug => "noAug",
        HeadMethod.Crt => "crt",
        HeadMethod.CrtReinit => "crtReinit",
        HeadMethod.TauNorm => "tauNorm",
        HeadMethod.Lws => "lws",
        HeadMethod.LogitAdjust => "logitAdjust",
        HeadMethod.BalancedSoftmax => "balancedSoftmax",
        HeadMethod.Fsa => "fsa",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Not a head method."),
    };

    /// <summary>The name tables and logs show.</summary>
    public static string Display(this HeadMethod method) => method switch
    {
        HeadMethod.CrossEntropy => "CE",
        HeadMethod.NoAug => "No-Aug",
        HeadMethod.Crt => "cRT",
        HeadMethod.CrtReinit => "cRT (re-init)",
        HeadMethod.TauNorm => "tau-norm",
        HeadMethod.Lws => "LWS",
        HeadMethod.LogitAdjust => "logit adj.",
        HeadMethod.BalancedSoftmax => "Balanced Softmax",
        HeadMethod.Fsa => "FSA",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Not a head method."),
    };

    /// <summary>The method stored under <paramref name="key"/> (case-sensitive), if any.</summary>
    public static bool TryFromKey(string? key, out HeadMethod method)
    {
        foreach (var candidate in All)
        {
            if (candidate.Key() == key)
            {
                method = candidate;
                return true;
            }
        }
        method = default;
        return false;
    }

    /// <summary>The method stored under <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">No method has that key.</exception>
    public static HeadMethod FromKey(string key) =>
        TryFromKey(key, out var method)
            ? method
            : throw new ArgumentException($"'{key}' is not a head method; valid: {string.Join(", ", Keys)}.", nameof(key));
}
