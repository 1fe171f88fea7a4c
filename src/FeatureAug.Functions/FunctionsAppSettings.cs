using System.Globalization;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Storage;
using Microsoft.Extensions.Configuration;

namespace FeatureAug.Functions;

/// <summary>
/// The app settings FeatureAug itself reads (the Functions host reads AzureWebJobsStorage,
/// DurableTaskHubName, NightlyRebalanceSchedule and DatasetUploadConnection through host.json and the
/// trigger attributes). App settings use '__' where configuration uses ':'.
/// </summary>
public sealed record FunctionsAppSettings
{
    /// <summary>The services every activity uses: artifact store, work directory, limits.</summary>
    public required WorkflowServiceOptions Workflow { get; init; }

    /// <summary>Settings of runs started by uploads and the timer, and under HTTP requests' options.</summary>
    public required RunDefaults RunDefaults { get; init; }

    /// <summary>
    /// Reads and checks the settings. Throws <see cref="InvalidOperationException"/> naming the setting
    /// (in its app-setting spelling) when one is missing, malformed or inconsistent, so a misconfigured
    /// app fails at start rather than on its first request.
    /// </summary>
    public static FunctionsAppSettings FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection("FeatureAug");
        var storage = section.GetSection("Storage");

        string kindText = storage["Kind"] ?? "local";
        ArtifactStoreKind kind = kindText.Trim().ToLowerInvariant() switch
        {
            "local" => ArtifactStoreKind.Local,
            "blob" => ArtifactStoreKind.Blob,
            _ => throw Invalid("FeatureAug__Storage__Kind", $"'{kindText}' is not local or blob."),
        };
        var store = new ArtifactStoreOptions
        {
            Kind = kind,
            LocalRoot = Blank(storage["LocalRoot"]),
            ConnectionString = Blank(storage["ConnectionString"]),
            AccountUrl = Blank(storage["AccountUrl"]),
            ManagedIdentityClientId = Blank(storage["ManagedIdentityClientId"]),
        };
        // The dataset.json trigger and the deployment's Event Grid subscription watch the container named
        // exactly "datasets", so the app's store must use the unprefixed containers; a setting that would
        // move them is refused rather than silently leaving uploads unseen.
        foreach (string moved in new[] { "Container", "ContainerPrefix" })
        {
            if (Blank(storage[moved]) is { } value)
                throw Invalid($"FeatureAug__Storage__{moved}", $"is '{value}', but the Functions app always uses the blob containers " +
                    $"{string.Join(", ", BlobArtifactStore.Roots)} (its dataset.json trigger watches container datasets); remove the setting.");
        }
        try
        {
            // Checks the combination (connection string xor account URL) without contacting storage.
            ArtifactStoreFactory.Create(store);
        }
        catch (ArgumentException exception)
        {
            throw Invalid("FeatureAug__Storage__*", exception.Message.Split(" (Parameter", 2)[0]);
        }

        var defaultWorkflow = new WorkflowServiceOptions();
        var workflow = new WorkflowServiceOptions
        {
            Store = store,
            WorkDirectory = Blank(section["WorkDirectory"]) ?? defaultWorkflow.WorkDirectory,
            MaxTrainingImages = ReadLong(section["MaxTrainingImages"], "FeatureAug__MaxTrainingImages", 1) ?? defaultWorkflow.MaxTrainingImages,
        };

        string device = Blank(section["Device"]) ?? "auto";
        if (device is not ("auto" or "cpu" or "cuda"))
            throw Invalid("FeatureAug__Device", $"'{device}' is not auto, cpu or cuda.");
        int threads = (int)(ReadLong(section["Threads"], "FeatureAug__Threads", 0) ?? 0);
        var standard = RunDefaults.Standard;
        var runDefaults = standard with { Execution = standard.Execution with { Device = device, Threads = threads } };

        return new FunctionsAppSettings { Workflow = workflow, RunDefaults = runDefaults };
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static long? ReadLong(string? value, string setting, long minimum)
    {
        if (Blank(value) is not { } text)
            return null;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) || parsed < minimum)
            throw Invalid(setting, $"'{text}' is not a whole number >= {minimum}.");
        return parsed;
    }

    private static InvalidOperationException Invalid(string setting, string problem) =>
        new($"App setting {setting}: {problem}");
}
