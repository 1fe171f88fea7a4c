using System.Globalization;
using System.Text.Json;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Functions.Api;

/// <summary>A run as GET /api/runs/{id} and GET /api/runs show it.</summary>
/// <param name="Status">The orchestration's custom status: stage, progress, ETA.</param>
/// <param name="Result">When completed: the report summary (top-1 per method, tail top-1, promotion) and the report's artifact paths.</param>
/// <param name="ReportStore">The artifact store the report paths are in.</param>
public sealed record RunView(
    string Id,
    OrchestrationRuntimeStatus RuntimeStatus,
    DateTimeOffset CreatedUtc,
    DateTimeOffset LastUpdatedUtc,
    string StatusUri,
    string? ModelName = null,
    RunMode? Mode = null,
    DatasetReference? Dataset = null,
    RunStatus? Status = null,
    RunResult? Result = null,
    string? ReportStore = null,
    RunFailure? Failure = null);

/// <summary>Why a run failed.</summary>
public sealed record RunFailure(string ErrorType, string Message);

/// <summary>Answer of POST /api/runs and POST /api/runs/{id}/terminate.</summary>
/// <param name="Created">False when the run id already existed and the request attached to it.</param>
public sealed record RunAccepted(string Id, bool Created, string StatusUri, string TerminateUri);

/// <summary>A page of GET /api/runs.</summary>
/// <param name="ContinuationToken">Pass back as ?continuationToken= for the next page; null on the last.</param>
/// <param name="NextUri">The next page's URL (same filters), or null.</param>
public sealed record RunPage(IReadOnlyList<RunView> Runs, string? ContinuationToken, string? NextUri);

/// <summary>
/// The /api/runs endpoints, free of the Functions host: each method takes the parsed route values and
/// body and answers an <see cref="ApiResult"/>. <paramref name="apiBase"/> is the absolute URL of
/// /api/ that status URLs are built on.
/// </summary>
public sealed class RunsApi(
    DurableTaskClient client, IArtifactStore store, ModelRegistry registry, RunDefaults defaults, Uri apiBase, TimeProvider time)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;
    private static readonly OrchestrationRuntimeStatus[] Finished =
    [
        OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated,
    ];

    /// <summary>POST /api/runs: validates the body and starts (or attaches to) the run; 202 with status URLs.</summary>
    public async Task<ApiResult> StartAsync(byte[] body, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var parsed = StrictJson.Parse<StartRunBody>(body, errors);
        if (parsed is null)
            return ApiResult.ValidationProblem(errors, "The body is not a valid run request.", "/api/runs");

        if (parsed.Dataset.DataDir is not null)
            errors.Add("dataset.dataDir", "is not accepted over HTTP: the server's file system is not an input. Upload the data set to datasets/<name>/ and name it in dataset.storeName.");
        if (parsed.Dataset.StoreName is { } storeName && ArtifactPath.IsValidIdentifier(storeName)
            && (await store.ListAsync(ArtifactPath.Dataset(storeName), cancellationToken)).Count == 0)
            errors.Add("dataset.storeName", $"no files under datasets/{storeName}/; upload the data set first.");

        ModelRecord? model = ArtifactPath.IsValidIdentifier(parsed.ModelName)
            ? await registry.GetAsync(parsed.ModelName, cancellationToken)
            : null;
        string? architecture = parsed.Architecture ?? model?.Architecture;
        if (architecture is null)
            errors.Add("architecture", $"required: model '{parsed.ModelName}' is not registered, so the run must name its architecture.");
        if (parsed.Mode == RunMode.Rebalance && model is null && ArtifactPath.IsValidIdentifier(parsed.ModelName))
            errors.Add("modelName", $"model '{parsed.ModelName}' is not registered; a rebalance run needs a registered model (PUT /api/models/{{name}} or a full run).");

        using var document = JsonDocument.Parse(body);
        JsonElement? options = document.RootElement.TryGetProperty("options", out var o) && o.ValueKind == JsonValueKind.Object ? o : null;
        JsonElement? Member(string name) => options is { } present && present.TryGetProperty(name, out var value) ? value : null;
        var request = new RunRequest(
            parsed.RunId ?? RunIds.NewForApi(time.GetUtcNow()),
            parsed.Dataset,
            parsed.ModelName,
            architecture ?? "",
            parsed.Mode,
            JsonOverlay.Apply(defaults.Training, Member("training")),
            JsonOverlay.Apply(defaults.Fsa, Member("fsa")),
            JsonOverlay.Apply(defaults.Execution, Member("execution")));
        // Without an architecture the run cannot be checked against one; that is already reported above.
        foreach (var problem in RunRequestValidation.Problems(request).Where(p => architecture is not null || p.Field != "architecture"))
            errors.Add(BodyFieldOf(problem.Field), problem.ToString());
        if (!errors.IsEmpty)
            return ApiResult.ValidationProblem(errors, "The run request is invalid; see errors.", "/api/runs");

        bool created = await RunLauncher.StartOrAttachAsync(client, request, cancellationToken);
        var accepted = Accepted(request.RunId, created);
        return ApiResult.Json(202, accepted, new Dictionary<string, string>
        {
            ["Location"] = accepted.StatusUri,
            ["Retry-After"] = "10",
        });
    }

    /// <summary>GET /api/runs/{id}: the run's runtime status, custom status, and when completed its result.</summary>
    public async Task<ApiResult> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (InvalidId(id) is { } invalid)
            return invalid;
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken);
        if (instance is null || instance.Name != FeatureAugOrchestrator.Name)
            return ApiResult.NotFound($"There is no run '{id}'.", $"/api/runs/{id}");
        return ApiResult.Json(200, View(instance, withDetails: true));
    }

    /// <summary>
    /// GET /api/runs?pageSize=&amp;continuationToken=&amp;status=&amp;createdFrom=: one page of runs. status is a
    /// comma-separated list of runtime statuses (pending, running, completed, failed, terminated,
    /// suspended); createdFrom an ISO 8601 time.
    /// </summary>
    public async Task<ApiResult> ListAsync(IReadOnlyDictionary<string, string?> query, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        int pageSize = DefaultPageSize;
        if (query.TryGetValue("pageSize", out var pageText) && pageText is not null
            && (!int.TryParse(pageText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
            errors.Add("pageSize", $"must be a whole number from 1 to {MaxPageSize}, got '{pageText}'.");
        var statuses = new List<OrchestrationRuntimeStatus>();
        if (query.TryGetValue("status", out var statusText) && !string.IsNullOrEmpty(statusText))
        {
            foreach (string part in statusText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (Enum.TryParse<OrchestrationRuntimeStatus>(part, ignoreCase: true, out var status) && Enum.IsDefined(status) && !int.TryParse(part, out _))
                    statuses.Add(status);
                else
                    errors.Add("status", $"'{part}' is not a runtime status; use pending, running, completed, failed, terminated or suspended.");
            }
        }
        DateTimeOffset? createdFrom = null;
        if (query.TryGetValue("createdFrom", out var fromText) && !string.IsNullOrEmpty(fromText))
        {
            if (DateTimeOffset.TryParse(fromText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var from))
                createdFrom = from;
            else
                errors.Add("createdFrom", $"'{fromText}' is not an ISO 8601 time such as 2026-01-31T00:00:00Z.");
        }
        query.TryGetValue("continuationToken", out var token);
        token = string.IsNullOrEmpty(token) ? null : token;
        if (!errors.IsEmpty)
            return ApiResult.ValidationProblem(errors, "The query is invalid; see errors.", "/api/runs");

        var filter = new OrchestrationQuery
        {
            PageSize = pageSize,
            ContinuationToken = token,
            Statuses = statuses.Count > 0 ? statuses : null,
            CreatedFrom = createdFrom,
            FetchInputsAndOutputs = false,
        };
        await foreach (var page in client.GetAllInstancesAsync(filter).AsPages(token, pageSize).WithCancellation(cancellationToken))
        {
            var runs = page.Values.Select(instance => View(instance, withDetails: false)).ToList();
            string? next = string.IsNullOrEmpty(page.ContinuationToken) ? null : NextUri(page.ContinuationToken, pageSize, statusText, fromText);
            return ApiResult.Json(200, new RunPage(runs, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken, next));
        }
        return ApiResult.Json(200, new RunPage([], null, null));
    }

    /// <summary>POST /api/runs/{id}/terminate: stops a run that has not finished; 409 when it has.</summary>
    public async Task<ApiResult> TerminateAsync(string id, byte[] body, CancellationToken cancellationToken)
    {
        if (InvalidId(id) is { } invalid)
            return invalid;
        string? reason = null;
        if (body.Length > 0)
        {
            var errors = new FieldErrors();
            var parsed = StrictJson.Parse<TerminateRunBody>(body, errors);
            if (parsed is null)
                return ApiResult.ValidationProblem(errors, "The body is not a valid terminate request.", $"/api/runs/{id}/terminate");
            reason = parsed.Reason;
        }
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken);
        if (instance is null || instance.Name != FeatureAugOrchestrator.Name)
            return ApiResult.NotFound($"There is no run '{id}'.", $"/api/runs/{id}/terminate");
        if (Finished.Contains(instance.RuntimeStatus))
            return ApiResult.Conflict($"Run '{id}' has already finished ({instance.RuntimeStatus}).", $"/api/runs/{id}/terminate");
        await client.TerminateInstanceAsync(id, new TerminateInstanceOptions { Output = reason ?? "terminated over the API" }, cancellationToken);
        var accepted = Accepted(id, created: false);
        return ApiResult.Json(202, accepted, new Dictionary<string, string> { ["Location"] = accepted.StatusUri });
    }

    /// <summary>The body's JSON path of a run-request field: the options live under "options".</summary>
    public static string BodyFieldOf(string requestField) => requestField switch
    {
        _ when requestField.StartsWith("training.", StringComparison.Ordinal)
            || requestField.StartsWith("execution.", StringComparison.Ordinal)
            || requestField.StartsWith("fsa.", StringComparison.Ordinal) => "options." + requestField,
        _ => requestField,
    };

    private static ApiResult? InvalidId(string id)
    {
        if (ArtifactPath.IsValidIdentifier(id))
            return null;
        var errors = new FieldErrors();
        try { ArtifactPath.ValidateIdentifier(id, "run id"); }
        catch (ArgumentException exception) { errors.Add("id", exception.Message.Split(" (Parameter", 2)[0]); }
        return ApiResult.ValidationProblem(errors, "The run id in the URL is invalid.");
    }

    private RunAccepted Accepted(string id, bool created) =>
        new(id, created, new Uri(apiBase, $"runs/{id}").AbsoluteUri, new Uri(apiBase, $"runs/{id}/terminate").AbsoluteUri);

    private RunView View(OrchestrationMetadata instance, bool withDetails)
    {
        var view = new RunView(instance.InstanceId, instance.RuntimeStatus, instance.CreatedAt, instance.LastUpdatedAt,
            new Uri(apiBase, $"runs/{instance.InstanceId}").AbsoluteUri,
            Status: TryRead(() => instance.ReadCustomStatusAs<RunStatus>()));
        if (!withDetails)
            return view;
        var request = TryRead(() => instance.ReadInputAs<RunRequest>());
        var result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? TryRead(() => instance.ReadOutputAs<RunResult>()) : null;
        return view with
        {
            ModelName = request?.ModelName,
            Mode = request?.Mode,
            Dataset = request?.Dataset,
            Result = result,
            ReportStore = result is null ? null : store.Description,
            Failure = instance.FailureDetails is { } failure ? new RunFailure(failure.ErrorType, failure.ErrorMessage) : null,
        };
    }

    private string NextUri(string continuationToken, int pageSize, string? status, string? createdFrom)
    {
        var parameters = new List<string> { $"pageSize={pageSize}", $"continuationToken={Uri.EscapeDataString(continuationToken)}" };
        if (!string.IsNullOrEmpty(status)) parameters.Add($"status={Uri.EscapeDataString(status)}");
        if (!string.IsNullOrEmpty(createdFrom)) parameters.Add($"createdFrom={Uri.EscapeDataString(createdFrom)}");
        return new Uri(apiBase, "runs?" + string.Join("&", parameters)).AbsoluteUri;
    }

    /// <summary>A status or input that does not deserialize is shown as absent rather than failing the whole answer.</summary>
    private static T? TryRead<T>(Func<T?> read) where T : class
    {
        try { return read(); }
        catch (Exception exception) when (exception is JsonException or NotSupportedException or InvalidOperationException) { return null; }
    }
}
