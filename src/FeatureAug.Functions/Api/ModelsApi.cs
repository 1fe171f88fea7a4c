using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Functions.Api;

/// <summary>A model as GET /api/models lists it: its record and its current champion (if any).</summary>
public sealed record ModelSummary(ModelRecord Model, ChampionPointer? Champion, string Uri);

/// <summary>GET /api/models/{name}: the record, the champion and the whole promotion history, oldest first.</summary>
public sealed record ModelDetails(ModelRecord Model, ChampionPointer? Champion, IReadOnlyList<PromotionRecord> History, string Uri);

/// <summary>The /api/models endpoints, free of the Functions host (see <see cref="RunsApi"/>).</summary>
public sealed class ModelsApi(IArtifactStore store, ModelRegistry registry, RunDefaults defaults, Uri apiBase, TimeProvider time)
{
    /// <summary>GET /api/models: every registered model with its champion, by name.</summary>
    public async Task<ApiResult> ListAsync(CancellationToken cancellationToken)
    {
        var models = await registry.ListAsync(cancellationToken);
        var summaries = new List<ModelSummary>(models.Count);
        foreach (var model in models)
            summaries.Add(new ModelSummary(model, await registry.GetChampionAsync(model.Name, cancellationToken), ModelUri(model.Name)));
        return ApiResult.Json(200, new { models = summaries });
    }

    /// <summary>GET /api/models/{name}.</summary>
    public async Task<ApiResult> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (InvalidName(name) is { } invalid)
            return invalid;
        var model = await registry.GetAsync(name, cancellationToken);
        if (model is null)
            return ApiResult.NotFound($"There is no model '{name}'.", $"/api/models/{name}");
        return ApiResult.Json(200, await DetailsAsync(model, cancellationToken));
    }

    /// <summary>
    /// PUT /api/models/{name}: registers the model or replaces its registration (keeping the first
    /// registration time and, unless a new one is given, its backbone). A backbonePath is loaded into the declared
    /// architecture (input channels, class count), a mismatch being a 400 naming backbonePath, then copied under
    /// models/&lt;name&gt;/backbones/ (<see cref="BackboneImport"/>) so the model keeps it whatever happens to the upload.
    /// 201 when new, 200 when replaced.
    /// </summary>
    public async Task<ApiResult> PutAsync(string name, byte[] body, CancellationToken cancellationToken)
    {
        if (InvalidName(name) is { } invalid)
            return invalid;
        string instance = $"/api/models/{name}";
        var errors = new FieldErrors();
        var parsed = StrictJson.Parse<RegisterModelBody>(body, errors);
        if (parsed is null)
            return ApiResult.ValidationProblem(errors, "The body is not a valid model registration.", instance);

        if (parsed.Classes.Count < 2)
            errors.Add("classes", $"lists {parsed.Classes.Count} class(es); a classifier needs at least 2.");
        for (int i = 0; i < parsed.Classes.Count; i++)
            if (string.IsNullOrWhiteSpace(parsed.Classes[i]))
                errors.Add($"classes[{i}]", "is empty.");
        var repeated = parsed.Classes.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (repeated.Count > 0)
            errors.Add("classes", $"names must be distinct; repeated: {string.Join(", ", repeated)}.");
        if (parsed.InputChannels is not (1 or 3))
            errors.Add("inputChannels", $"must be 1 or 3, got {parsed.InputChannels}.");
        if (parsed.Dataset.DataDir is not null)
            errors.Add("dataset.dataDir", "is not accepted over HTTP: name an uploaded data set in dataset.storeName.");

        // The run-request rules cover the architecture and the data set reference; check them on the run a nightly rebalance would start.
        var probe = new RunRequest(RunIds.ForNightlyRebalance(name, time.GetUtcNow()), parsed.Dataset, name, parsed.Architecture,
            RunMode.Rebalance, defaults.Training, defaults.Fsa, defaults.Execution);
        foreach (var problem in RunRequestValidation.Problems(probe))
            errors.Add(problem.Field is "architecture" || problem.Field.StartsWith("dataset.", StringComparison.Ordinal) ? problem.Field : "",
                problem.ToString());

        ArtifactProperties? backbone = null;
        if (parsed.BackbonePath is { } backbonePath)
        {
            if (!IsValidPath(backbonePath, out string? pathProblem))
                errors.Add("backbonePath", pathProblem!);
            else if ((backbone = await store.GetPropertiesAsync(backbonePath, cancellationToken)) is null)
                errors.Add("backbonePath", $"no artifact at '{backbonePath}'; upload the checkpoint to the store first.");
            else if (backbone.Size == 0)
                errors.Add("backbonePath", $"'{backbonePath}' is empty.");
        }
        if (!errors.IsEmpty)
            return ApiResult.ValidationProblem(errors, "The model registration is invalid; see errors.", instance);

        string? registeredBackbone = null;
        if (backbone is not null)
        {
            try
            {
                // Loaded into the declared architecture before anything is stored, so a checkpoint that does not fit is refused.
                registeredBackbone = await BackboneImport.ImportFromStoreAsync(store, name, parsed.Architecture, parsed.InputChannels,
                    parsed.Classes.Count, backbone.Path, "backbonePath", cancellationToken);
            }
            catch (InvalidRunInputException exception)
            {
                errors.Add("backbonePath", exception.Message);
                return ApiResult.ValidationProblem(errors, "The backbone checkpoint cannot serve this model; see errors.", instance);
            }
            catch (ArtifactIntegrityException exception)
            {
                errors.Add("backbonePath", exception.Message);
                return ApiResult.ValidationProblem(errors, "The backbone checkpoint is corrupt.", instance);
            }
        }

        var existing = await registry.GetAsync(name, cancellationToken);
        var record = new ModelRecord(name, parsed.Architecture, parsed.InputChannels, parsed.Classes.ToArray(), parsed.Dataset,
            parsed.NightlyRebalance, existing?.RegisteredUtc ?? time.GetUtcNow(), registeredBackbone ?? existing?.BackbonePath);
        await registry.RegisterAsync(record, cancellationToken);
        var details = await DetailsAsync(record, cancellationToken);
        return existing is null
            ? ApiResult.Json(201, details, new Dictionary<string, string> { ["Location"] = details.Uri })
            : ApiResult.Json(200, details);
    }

    private async Task<ModelDetails> DetailsAsync(ModelRecord model, CancellationToken cancellationToken) => new(
        model,
        await registry.GetChampionAsync(model.Name, cancellationToken),
        await registry.HistoryAsync(model.Name, cancellationToken),
        ModelUri(model.Name));

    private string ModelUri(string name) => new Uri(apiBase, $"models/{name}").AbsoluteUri;

    private static bool IsValidPath(string path, out string? problem)
    {
        try
        {
            ArtifactPath.Validate(path);
            // Only these folders exist in the blob store (one container each); the rule holds for every store kind alike.
            string root = path.Split('/', 2)[0];
            if (!path.Contains('/') || !ArtifactPath.Roots.Contains(root, StringComparer.Ordinal))
            {
                problem = $"'{path}' is not under {string.Join("/, ", ArtifactPath.Roots)}/, the artifact store's folders; " +
                    "upload the checkpoint to, for example, models/<name>/uploads/.";
                return false;
            }
            problem = null;
            return true;
        }
        catch (ArgumentException exception)
        {
            problem = exception.Message.Split(" (Parameter", 2)[0];
            return false;
        }
    }

    private static ApiResult? InvalidName(string name)
    {
        if (ArtifactPath.IsValidIdentifier(name))
            return null;
        var errors = new FieldErrors();
        try { ArtifactPath.ValidateIdentifier(name, "model name"); }
        catch (ArgumentException exception) { errors.Add("name", exception.Message.Split(" (Parameter", 2)[0]); }
        return ApiResult.ValidationProblem(errors, "The model name in the URL is invalid.");
    }
}
