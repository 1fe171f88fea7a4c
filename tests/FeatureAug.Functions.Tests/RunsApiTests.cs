using System.Text;
using System.Text.Json;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Functions.Api;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Functions.Tests;

public sealed class RunsApiTests : IAsyncLifetime
{
    // The app's configured defaults differ from the library's, so the overlay is observable.
    private static readonly RunDefaults AppDefaults = RunDefaults.Standard with
    {
        Execution = new ExecutionSettings(Device: "cpu", Threads: 2),
    };

    private TestEngine _engine = null!;

    public async Task InitializeAsync() => _engine = await TestEngine.StartLocalAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private RunsApi Api() => new(_engine.Client, _engine.Store, _engine.Registry, AppDefaults, TestEngine.ApiBase, TimeProvider.System);

    private static byte[] Body(string json) => Encoding.UTF8.GetBytes(json);

    internal static RunRequest Request(string runId, string model, string storeName = "junk") => new(
        runId, new DatasetReference(Kind: "idx", StoreName: storeName, Channels: 1), model, "resnet8", RunMode.Full,
        new TrainingOptions(), new FsaOptions(), new ExecutionSettings());

    [Fact]
    public async Task Start_ValidBody_Answers202WithStatusUrls_AndRunsTheRequestedSettingsOverTheDefaults()
    {
        await _engine.PutAsync("datasets/junk/train-images-idx3-ubyte", "not an idx file");

        var result = await Api().StartAsync(Body("""
            {
              "runId": "api-start-1",
              "dataset": { "kind": "idx", "storeName": "junk", "channels": 1 },
              "modelName": "digits",
              "mode": "full",
              "architecture": "resnet8",
              "options": { "training": { "epochs": 2 }, "execution": { "extractShards": 1 }, "fsa": { "na": 2 } }
            }
            """), CancellationToken.None);

        Assert.Equal(202, result.StatusCode);
        var accepted = Assert.IsType<RunAccepted>(result.Body);
        Assert.Equal(new RunAccepted("api-start-1", true, "https://featureaug.example/api/runs/api-start-1",
            "https://featureaug.example/api/runs/api-start-1/terminate"), accepted);
        Assert.Equal("https://featureaug.example/api/runs/api-start-1", result.Headers["Location"]);
        Assert.Equal("10", result.Headers["Retry-After"]);

        var instance = await _engine.Client.GetInstanceAsync("api-start-1", getInputsAndOutputs: true);
        var request = instance!.ReadInputAs<RunRequest>()!;
        Assert.Equal(2, request.Training.Epochs);
        Assert.Equal(new TrainingOptions().BatchSize, request.Training.BatchSize);
        Assert.Equal(new ExecutionSettings(Device: "cpu", Threads: 2, ExtractShards: 1), request.Execution);
        // The grid is an array, which record equality compares by reference: compare it by its elements.
        Assert.Equal(new FsaOptions() with { Na = 2, LearningRateGrid = request.Fsa.LearningRateGrid }, request.Fsa);
        Assert.Equal(new FsaOptions().LearningRateGrid, request.Fsa.LearningRateGrid);
        Assert.Equal(RunMode.Full, request.Mode);

        // The data is junk, so the run fails at validation; GET shows that and why.
        await _engine.WaitForEndAsync("api-start-1");
        var view = Assert.IsType<RunView>((await Api().GetAsync("api-start-1", CancellationToken.None)).Body);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, view.RuntimeStatus);
        Assert.Equal("digits", view.ModelName);
        Assert.Equal("junk", view.Dataset!.StoreName);
        Assert.Contains("dataset", view.Failure!.Message);
        Assert.Null(view.Result);
    }

    [Fact]
    public async Task Start_SameRunIdTwice_AttachesToTheFirst()
    {
        await _engine.PutAsync("datasets/junk2/a", "x");
        string body = """{ "runId": "api-twice", "dataset": { "kind": "idx", "storeName": "junk2" }, "modelName": "m", "mode": "full", "architecture": "resnet8" }""";

        var first = await Api().StartAsync(Body(body), CancellationToken.None);
        var second = await Api().StartAsync(Body(body), CancellationToken.None);

        Assert.True(Assert.IsType<RunAccepted>(first.Body).Created);
        Assert.False(Assert.IsType<RunAccepted>(second.Body).Created);
        Assert.Equal(202, second.StatusCode);
    }

    [Fact]
    public async Task Start_StructurallyInvalidBody_Is400NamingEachField()
    {
        var result = await Api().StartAsync(Body("""{ "dataset": { "kind": "idx", "colour": 1 }, "modelName": "m", "architecture": 8 }"""), CancellationToken.None);

        Assert.Equal(400, result.StatusCode);
        Assert.Equal(ApiResult.ProblemContentType, result.ContentType);
        var problem = Assert.IsType<ProblemBody>(result.Body);
        Assert.Equal(new[] { "dataset.colour", "mode" }, problem.Errors!.Keys.ToArray());
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.1", problem.Type);
        Assert.Equal(400, problem.Status);
        Assert.Equal("/api/runs", problem.Instance);
    }

    [Fact]
    public async Task Start_InvalidValues_Is400NamingEachBodyField()
    {
        var result = await Api().StartAsync(Body("""
            {
              "runId": "..",
              "dataset": { "kind": "nope", "dataDir": "/etc", "imbalanceFactor": 0.5 },
              "modelName": "fresh",
              "mode": "full",
              "architecture": "resnet999",
              "options": { "training": { "epochs": 0 }, "execution": { "device": "tpu" }, "fsa": { "tauS": 2 } }
            }
            """), CancellationToken.None);

        Assert.Equal(400, result.StatusCode);
        var errors = Assert.IsType<ProblemBody>(result.Body).Errors!;
        Assert.Equal(
            new[]
            {
                "dataset.dataDir", "runId", "architecture", "dataset.kind", "dataset.imbalanceFactor", "options.training.epochs",
                "options.training.warmupEpochs", "options.execution.device", "options.fsa.tauS",
            }.Order(StringComparer.Ordinal),
            errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("not accepted over HTTP", errors["dataset.dataDir"][0]);
        Assert.Equal("training.epochs must be at least 1, got 0.", errors["options.training.epochs"][0]);
        Assert.Null(await _engine.Client.GetInstanceAsync(".."));
    }

    [Fact]
    public async Task Start_WithoutArchitecture_OfANewModel_AndRebalanceOfAnUnknownModel_Are400()
    {
        var full = await Api().StartAsync(Body("""{ "dataset": {}, "modelName": "brand-new", "mode": "full" }"""), CancellationToken.None);
        var rebalance = await Api().StartAsync(Body("""{ "dataset": {}, "modelName": "brand-new", "mode": "rebalance", "architecture": "resnet8" }"""), CancellationToken.None);
        var missingData = await Api().StartAsync(Body("""{ "dataset": { "kind": "idx", "storeName": "absent" }, "modelName": "m", "mode": "full", "architecture": "resnet8" }"""), CancellationToken.None);

        Assert.Equal(["architecture"], Assert.IsType<ProblemBody>(full.Body).Errors!.Keys);
        Assert.Equal(["modelName"], Assert.IsType<ProblemBody>(rebalance.Body).Errors!.Keys);
        Assert.Equal(["no files under datasets/absent/; upload the data set first."], Assert.IsType<ProblemBody>(missingData.Body).Errors!["dataset.storeName"]);
    }

    [Fact]
    public async Task Get_UnknownRun_Is404_AndAMalformedId_Is400()
    {
        var unknown = await Api().GetAsync("no-such-run", CancellationToken.None);
        var malformed = await Api().GetAsync("a..b", CancellationToken.None);

        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal("There is no run 'no-such-run'.", Assert.IsType<ProblemBody>(unknown.Body).Detail);
        Assert.Equal(400, malformed.StatusCode);
        Assert.Equal(["id"], Assert.IsType<ProblemBody>(malformed.Body).Errors!.Keys);
    }

    [Fact]
    public async Task Terminate_StopsARunningRun_ThenConflicts_AndUnknownIs404()
    {
        string id = await _engine.StartTrainingRunAsync("to-stop");

        var stopped = await Api().TerminateAsync(id, Body("""{ "reason": "wrong data" }"""), CancellationToken.None);
        var ended = await _engine.WaitForEndAsync(id);
        var again = await Api().TerminateAsync(id, [], CancellationToken.None);
        var unknown = await Api().TerminateAsync("nobody", [], CancellationToken.None);
        var badBody = await Api().TerminateAsync(id, Body("""{ "why": 1 }"""), CancellationToken.None);

        Assert.Equal(202, stopped.StatusCode);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, ended.RuntimeStatus);
        Assert.Equal("\"wrong data\"", ended.SerializedOutput);
        Assert.Equal(409, again.StatusCode);
        Assert.Equal($"Run '{id}' has already finished (Terminated).", Assert.IsType<ProblemBody>(again.Body).Detail);
        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal(["why"], Assert.IsType<ProblemBody>(badBody.Body).Errors!.Keys);
    }

    [Fact]
    public async Task ProblemResult_IsWrittenAsProblemJson()
    {
        var result = await Api().GetAsync("a..b", CancellationToken.None);
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();

        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor()));

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("application/problem+json; charset=utf-8", context.Response.ContentType);
        context.Response.Body.Position = 0;
        using var json = JsonDocument.Parse(context.Response.Body);
        var root = json.RootElement;
        Assert.Equal(400, root.GetProperty("status").GetInt32());
        Assert.Equal("One or more fields are invalid.", root.GetProperty("title").GetString());
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.1", root.GetProperty("type").GetString());
        Assert.Contains("contains \"..\"", root.GetProperty("errors").GetProperty("id")[0].GetString());
        Assert.False(root.TryGetProperty("instance", out _));
    }
}

/// <summary>Paging runs on an engine of its own, so other tests' runs do not change the counts.</summary>
public sealed class RunsListingTests : IAsyncLifetime
{
    private TestEngine _engine = null!;

    public async Task InitializeAsync() => _engine = await TestEngine.StartLocalAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task List_PagesThroughEveryRun_WithContinuationTokens()
    {
        var ids = new List<string>();
        for (int i = 1; i <= 5; i++)
            ids.Add(await _engine.StartSuspendedRunAsync(RunsApiTests.Request($"listed-{i}", "m")));
        var api = new RunsApi(_engine.Client, _engine.Store, _engine.Registry, RunDefaults.Standard, TestEngine.ApiBase, TimeProvider.System);

        var seen = new List<string>();
        var pageSizes = new List<int>();
        string? token = null;
        for (int page = 0; page < 10; page++)
        {
            var query = new Dictionary<string, string?> { ["pageSize"] = "2", ["status"] = "suspended" };
            if (token is not null) query["continuationToken"] = token;
            var result = await api.ListAsync(query, CancellationToken.None);
            var body = Assert.IsType<RunPage>(result.Body);
            seen.AddRange(body.Runs.Select(r => r.Id));
            pageSizes.Add(body.Runs.Count);
            Assert.All(body.Runs, r => Assert.Equal(OrchestrationRuntimeStatus.Suspended, r.RuntimeStatus));
            token = body.ContinuationToken;
            if (token is null) { Assert.Null(body.NextUri); break; }
            Assert.StartsWith("https://featureaug.example/api/runs?pageSize=2&continuationToken=", body.NextUri);
        }

        // Every run once, none twice (a run whose suspension lost its race may be listed too: it is suspended as well).
        Assert.Empty(ids.Except(seen));
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.All(pageSizes, size => Assert.InRange(size, 0, 2));
        Assert.True(pageSizes.Count >= 3, $"5 runs in pages of 2 need 3 pages, got {pageSizes.Count}");
    }

    [Fact]
    public async Task List_BadQuery_Is400NamingEachParameter()
    {
        var api = new RunsApi(_engine.Client, _engine.Store, _engine.Registry, RunDefaults.Standard, TestEngine.ApiBase, TimeProvider.System);

        var result = await api.ListAsync(new Dictionary<string, string?>
        {
            ["pageSize"] = "500", ["status"] = "running,asleep", ["createdFrom"] = "yesterday",
        }, CancellationToken.None);

        Assert.Equal(400, result.StatusCode);
        Assert.Equal(new[] { "pageSize", "status", "createdFrom" }, Assert.IsType<ProblemBody>(result.Body).Errors!.Keys.ToArray());
    }
}
