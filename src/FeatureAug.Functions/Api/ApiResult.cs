using System.Text.Json;
using System.Text.Json.Serialization;
using FeatureAug.Functions.Requests;
using Microsoft.AspNetCore.Mvc;

namespace FeatureAug.Functions.Api;

/// <summary>JSON settings of every API response: camelCase, enums as camelCase strings, nulls left out.</summary>
public static class ApiJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary>An RFC 7807 (RFC 9457) problem-details body; <see cref="Errors"/> maps request fields to their problems.</summary>
public sealed record ProblemBody(
    string Type,
    string Title,
    int Status,
    string Detail,
    string? Instance = null,
    IReadOnlyDictionary<string, string[]>? Errors = null);

/// <summary>
/// What an API endpoint answers: status, JSON body, extra headers. Plain data, so the endpoint logic is
/// tested without a host; as an <see cref="IActionResult"/> it writes itself to the ASP.NET Core response.
/// </summary>
public sealed record ApiResult(int StatusCode, object? Body, string ContentType, IReadOnlyDictionary<string, string> Headers) : IActionResult
{
    public const string JsonContentType = "application/json; charset=utf-8";
    public const string ProblemContentType = "application/problem+json; charset=utf-8";

    public static ApiResult Json(int statusCode, object body, IReadOnlyDictionary<string, string>? headers = null) =>
        new(statusCode, body, JsonContentType, headers ?? new Dictionary<string, string>());

    /// <summary>400 with every field problem in <c>errors</c>.</summary>
    public static ApiResult ValidationProblem(FieldErrors errors, string detail, string? instance = null) =>
        Problem(400, "One or more fields are invalid.", detail, instance, errors.ToDictionary());

    /// <summary>404: the resource does not exist.</summary>
    public static ApiResult NotFound(string detail, string? instance = null) =>
        Problem(404, "Not found.", detail, instance);

    /// <summary>409: the request conflicts with the resource's state.</summary>
    public static ApiResult Conflict(string detail, string? instance = null) =>
        Problem(409, "Conflict.", detail, instance);

    public static ApiResult Problem(int status, string title, string detail, string? instance = null,
        IReadOnlyDictionary<string, string[]>? errors = null) =>
        new(status, new ProblemBody(ProblemType(status), title, status, detail, instance, errors), ProblemContentType,
            new Dictionary<string, string>());

    /// <summary>The body as the client receives it (for logs and tests).</summary>
    public string BodyJson() => Body is null ? "" : JsonSerializer.Serialize(Body, Body.GetType(), ApiJson.Options);

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCode;
        foreach (var (name, value) in Headers)
            response.Headers[name] = value;
        if (Body is null)
            return;
        response.ContentType = ContentType;
        await JsonSerializer.SerializeAsync(response.Body, Body, Body.GetType(), ApiJson.Options, context.HttpContext.RequestAborted);
    }

    /// <summary>The RFC 9110 section of the status, as ASP.NET Core's own problem details name it.</summary>
    private static string ProblemType(int status) => status switch
    {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        _ => "about:blank",
    };
}
