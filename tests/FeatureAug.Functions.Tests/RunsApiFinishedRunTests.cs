using System.Text.Json;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Functions.Api;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Testing;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Functions.Tests;

/// <summary>GET /api/runs/{id} of a run that really ran to completion: a tiny pipeline on a data set uploaded to the store.</summary>
public sealed class RunsApiFinishedRunTests : IAsyncLifetime
{
    private const string DatasetName = "tiny-digits";
    private TestEngine _engine = null!;
    private string _dataDir = null!;

    public async Task InitializeAsync()
    {
        _engine = await TestEngine.StartLocalAsync();
        _dataDir = TinyDataset.Write(Directory.CreateTempSubdirectory("featureaug-tiny-idx-").FullName);
        // The path an HTTP run takes: the data set is read from datasets/<name>/ in the store, not from a local folder.
        foreach (string file in Directory.GetFiles(_dataDir))
            await _engine.Store.UploadFromFileAsync($"datasets/{DatasetName}/{Path.GetFileName(file)}", file, default);
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    private RunsApi Api() => new(_engine.Client, _engine.Store, _engine.Registry, RunDefaults.Standard, TestEngine.ApiBase, TimeProvider.System);

    [Fact]
    public async Task Get_CompletedRun_GivesRuntimeAndCustomStatus_TheReportSummary_AndTheReportLocation()
    {
        var tiny = TinyDataset.Request("api-finished-1", _dataDir);
        var request = tiny with { Dataset = new DatasetReference(Kind: "idx", StoreName: DatasetName, Channels: 1) };
        Assert.True(await RunLauncher.StartOrAttachAsync(_engine.Client, request, default));
        var finished = await _engine.WaitForEndAsync(request.RunId, seconds: 240);
        Assert.True(finished.RuntimeStatus == OrchestrationRuntimeStatus.Completed, finished.FailureDetails?.ErrorMessage);

        var answer = await Api().GetAsync(request.RunId, default);

        Assert.Equal(200, answer.StatusCode);
        var view = Assert.IsType<RunView>(answer.Body);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, view.RuntimeStatus);
        Assert.Equal("https://featureaug.example/api/runs/api-finished-1", view.StatusUri);
        Assert.Equal(("Completed", 1, 1), (view.Status!.Stage, view.Status.StepsDone, view.Status.StepsTotal));
        Assert.Equal((request.ModelName, RunMode.Full, DatasetName), (view.ModelName, view.Mode, view.Dataset!.StoreName));
        Assert.Null(view.Failure);

        // The report's location: its paths in the store the API names.
        var result = view.Result!;
        Assert.Equal("runs/api-finished-1/reports/report.json", result.ReportPath);
        Assert.Equal("runs/api-finished-1/reports/report.md", result.MarkdownPath);
        Assert.Equal(_engine.Store.Description, view.ReportStore);
        Assert.True(await _engine.Store.ExistsAsync(result.MarkdownPath, default));

        // The summary is the stored report's: top-1 and tail top-1 of every method, exactly.
        RunReport report;
        await using (var stored = await _engine.Store.OpenReadAsync(result.ReportPath, default))
        using (var reader = new StreamReader(stored))
            report = RunReport.FromJson(await reader.ReadToEndAsync());
        Assert.Equal(HeadMethods.Keys.Order(StringComparer.Ordinal), result.Top1.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(HeadMethods.Keys.Order(StringComparer.Ordinal), result.TailTop1.Keys.Order(StringComparer.Ordinal));
        foreach (string method in HeadMethods.Keys)
        {
            Assert.Equal(report.Methods[method].Top1, result.Top1[method]);
            Assert.Equal(report.Methods[method].TailTop1, result.TailTop1[method]);
        }
        Assert.True(result.Promotion!.Promoted, result.Promotion.Reason);

        // And that is what an HTTP client reads: the JSON body with the same figures under stable names.
        using var body = JsonDocument.Parse(answer.BodyJson());
        var root = body.RootElement;
        Assert.Equal("completed", root.GetProperty("runtimeStatus").GetString());
        Assert.Equal("Completed", root.GetProperty("status").GetProperty("stage").GetString());
        Assert.Equal(result.ReportPath, root.GetProperty("result").GetProperty("reportPath").GetString());
        Assert.Equal(_engine.Store.Description, root.GetProperty("reportStore").GetString());
        foreach (string method in HeadMethods.Keys)
        {
            Assert.Equal(report.Methods[method].Top1, root.GetProperty("result").GetProperty("top1").GetProperty(method).GetDouble());
            Assert.Equal(report.Methods[method].TailTop1, root.GetProperty("result").GetProperty("tailTop1").GetProperty(method).GetDouble());
        }
    }
}
