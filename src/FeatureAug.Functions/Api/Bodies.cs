using System.Text.Json;
using System.Text.Json.Nodes;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Functions.Requests;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;

namespace FeatureAug.Functions.Api;

/// <summary>Body of POST /api/runs. Parsed strictly: unknown fields and missing required ones are 400s naming the field.</summary>
public sealed record StartRunBody
{
    /// <summary>Optional run id; a new one is made when absent. Re-using an id attaches to that run.</summary>
    public string? RunId { get; init; }

    /// <summary>The data: a preset kind, or an uploaded data set (storeName). dataDir is not accepted over HTTP.</summary>
    public required DatasetReference Dataset { get; init; }

    /// <summary>The model the run trains (full) or rebalances.</summary>
    public required string ModelName { get; init; }

    /// <summary>full or rebalance.</summary>
    public required RunMode Mode { get; init; }

    /// <summary>Backbone architecture; defaults to the registered model's. Required for a model not registered yet.</summary>
    public string? Architecture { get; init; }

    /// <summary>Settings laid over the app's defaults: only the fields given change.</summary>
    public RunOptionsBody? Options { get; init; }
}

/// <summary>The "options" member of <see cref="StartRunBody"/>.</summary>
public sealed record RunOptionsBody
{
    public TrainingOptions? Training { get; init; }
    public FsaOptions? Fsa { get; init; }
    public ExecutionSettings? Execution { get; init; }
}

/// <summary>Body of PUT /api/models/{name}.</summary>
public sealed record RegisterModelBody
{
    public required string Architecture { get; init; }
    public required IReadOnlyList<string> Classes { get; init; }
    public required int InputChannels { get; init; }

    /// <summary>The data nightly rebalancing uses (usually an uploaded data set: storeName).</summary>
    public required DatasetReference Dataset { get; init; }

    public required bool NightlyRebalance { get; init; }

    /// <summary>
    /// Artifact path of a backbone checkpoint brought from elsewhere (uploaded to the store first, e.g.
    /// models/shelves-resnet8/uploads/resnet8.safetensors; it must lie under datasets/, runs/ or models/). It is
    /// copied under models/&lt;name&gt;/backbones/ and
    /// Rebalance runs use it until the model has a champion.
    /// </summary>
    public string? BackbonePath { get; init; }
}

/// <summary>Optional body of POST /api/runs/{id}/terminate.</summary>
public sealed record TerminateRunBody
{
    /// <summary>Recorded as the terminated run's output.</summary>
    public string? Reason { get; init; }
}

/// <summary>Lays the fields a client sent over a default settings record, leaving the others at their defaults.</summary>
public static class JsonOverlay
{
    /// <summary>
    /// <paramref name="defaults"/> with every member of <paramref name="overlay"/> (a JSON object already
    /// checked by <see cref="StrictJson"/>) replacing the member of the same name.
    /// </summary>
    public static T Apply<T>(T defaults, JsonElement? overlay) where T : class
    {
        if (overlay is not { ValueKind: JsonValueKind.Object } members)
            return defaults;
        var merged = JsonSerializer.SerializeToNode(defaults, StrictJson.Options)!.AsObject();
        foreach (var member in members.EnumerateObject())
            merged[member.Name] = JsonNode.Parse(member.Value.GetRawText());
        return merged.Deserialize<T>(StrictJson.Options)
            ?? throw new InvalidOperationException($"Overlaying {typeof(T).Name} gave null.");
    }
}
