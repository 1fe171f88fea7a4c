using FeatureAug.Functions.Api;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Functions.Triggers;

/// <summary>
/// The HTTP API, every route behind a function key (AuthorizationLevel.Function). Each function only
/// reads the route, query and body and hands them to <see cref="RunsApi"/> or <see cref="ModelsApi"/>.
/// </summary>
public sealed class HttpApiFunctions(IArtifactStore store, ModelRegistry registry, RunDefaults defaults, TimeProvider time)
{
    [Function("StartRun")]
    public async Task<IActionResult> StartRun(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBody.ReadAsync(request.Body, cancellationToken);
        return body is null ? RequestBody.TooLarge() : await Runs(client, request).StartAsync(body, cancellationToken);
    }

    [Function("GetRun")]
    public Task<ApiResult> GetRun(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        Runs(client, request).GetAsync(id, cancellationToken);

    [Function("ListRuns")]
    public Task<ApiResult> ListRuns(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        Runs(client, request).ListAsync(request.Query.ToDictionary(q => q.Key, q => (string?)q.Value.ToString()), cancellationToken);

    [Function("TerminateRun")]
    public async Task<IActionResult> TerminateRun(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{id}/terminate")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBody.ReadAsync(request.Body, cancellationToken);
        return body is null ? RequestBody.TooLarge() : await Runs(client, request).TerminateAsync(id, body, cancellationToken);
    }

    [Function("ListModels")]
    public Task<ApiResult> ListModels(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models")] HttpRequest request,
        CancellationToken cancellationToken) =>
        Models(request).ListAsync(cancellationToken);

    [Function("GetModel")]
    public Task<ApiResult> GetModel(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{name}")] HttpRequest request,
        string name,
        CancellationToken cancellationToken) =>
        Models(request).GetAsync(name, cancellationToken);

    [Function("RegisterModel")]
    public async Task<IActionResult> RegisterModel(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "models/{name}")] HttpRequest request,
        string name,
        CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBody.ReadAsync(request.Body, cancellationToken);
        return body is null ? RequestBody.TooLarge() : await Models(request).PutAsync(name, body, cancellationToken);
    }

    private RunsApi Runs(DurableTaskClient client, HttpRequest request) =>
        new(client, store, registry, defaults, ApiBase.Of(request), time);

    private ModelsApi Models(HttpRequest request) => new(store, registry, defaults, ApiBase.Of(request), time);
}

/// <summary>The absolute URL of /api/ for links in answers.</summary>
public static class ApiBase
{
    /// <summary>
    /// Built from the request's host; behind a TLS-terminating ingress (Container Apps) the request
    /// arrives over http, so X-Forwarded-Proto, when present, gives the scheme the client used.
    /// </summary>
    public static Uri Of(HttpRequest request)
    {
        string scheme = request.Headers["X-Forwarded-Proto"].FirstOrDefault() is { Length: > 0 } forwarded
            && (forwarded == "https" || forwarded == "http") ? forwarded : request.Scheme;
        return new Uri($"{scheme}://{request.Host}{request.PathBase}/api/");
    }
}
