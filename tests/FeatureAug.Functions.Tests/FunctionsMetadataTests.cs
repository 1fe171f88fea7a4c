using System.Reflection;
using System.Text.Json;
using FeatureAug.Workflow;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.Core;
using Microsoft.Azure.Functions.Worker.Core.FunctionMetadata;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace FeatureAug.Functions.Tests;

/// <summary>
/// What the Functions host will see: the functions.metadata the Worker SDK generated for the built app,
/// and the orchestrator and activities the Durable extension adds at start from the worker's registry.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static string OutputDirectory =>
        typeof(FunctionsMetadataTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "FunctionsAppOutput").Value!;

    private static Dictionary<string, JsonElement> Functions()
    {
        string path = Path.Combine(OutputDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: build src/FeatureAug.Functions with the same configuration first.");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.Clone());
    }

    private static JsonElement Trigger(JsonElement function) =>
        function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

    [Theory]
    [InlineData("StartRun", "post", "runs")]
    [InlineData("ListRuns", "get", "runs")]
    [InlineData("GetRun", "get", "runs/{id}")]
    [InlineData("TerminateRun", "post", "runs/{id}/terminate")]
    [InlineData("ListModels", "get", "models")]
    [InlineData("GetModel", "get", "models/{name}")]
    [InlineData("RegisterModel", "put", "models/{name}")]
    public void HttpFunction_HasItsRouteAndMethod_AndNeedsAFunctionKey(string name, string method, string route)
    {
        var trigger = Trigger(Functions()[name]);

        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(route, trigger.GetProperty("route").GetString());
        Assert.Equal(new[] { method }, trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!).ToArray());
        Assert.Equal("Function", trigger.GetProperty("authLevel").GetString());
    }

    [Theory]
    [InlineData("Microsoft.DurableTask.InProcessTestHost.dll")]
    [InlineData("DurableTask.AzureStorage.dll")]
    [InlineData("FeatureAug.LocalEngine.dll")]
    [InlineData("FeatureAug.Cli.dll")]
    public void TheAppShipsNoLocalEngine(string file)
    {
        Assert.True(File.Exists(Path.Combine(OutputDirectory, "FeatureAug.Workflow.dll")), $"{OutputDirectory} holds no built app.");
        Assert.False(File.Exists(Path.Combine(OutputDirectory, file)), $"The Functions app carries {file}, which only local runs and tests need.");
    }

    [Fact]
    public void EveryHttpFunction_NeedsAFunctionKey()
    {
        var http = Functions().Values.Select(Trigger).Where(t => t.GetProperty("type").GetString() == "httpTrigger").ToList();

        Assert.Equal(7, http.Count);
        Assert.All(http, t => Assert.Equal("Function", t.GetProperty("authLevel").GetString()));
    }

    [Fact]
    public void DatasetUpload_IsAnEventGridBlobTriggerOnTheManifest()
    {
        var trigger = Trigger(Functions()["DatasetUploaded"]);

        Assert.Equal("blobTrigger", trigger.GetProperty("type").GetString());
        // Container datasets, blob <name>/dataset.json: the blob store's artifact datasets/<name>/dataset.json.
        Assert.Equal("datasets/{name}/dataset.json", trigger.GetProperty("path").GetString());
        Assert.Equal("EventGrid", trigger.GetProperty("source").GetString());
        Assert.Equal("DatasetUploadConnection", trigger.GetProperty("connection").GetString());
    }

    [Fact]
    public void NightlyRebalance_IsATimerOnTheScheduleSetting()
    {
        var trigger = Trigger(Functions()["NightlyRebalance"]);

        Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal("%NightlyRebalanceSchedule%", trigger.GetProperty("schedule").GetString());
    }

    [Fact]
    public void TheBuiltAppHasExactlyTheseTriggerFunctions()
    {
        Assert.Equal(
            new[] { "DatasetUploaded", "GetModel", "GetRun", "ListModels", "ListRuns", "NightlyRebalance", "RegisterModel", "StartRun", "TerminateRun" },
            Functions().Keys.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void TheWorker_ReportsTheOrchestratorAndEveryActivity_FromTheSharedRegistry()
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration["Functions:Worker:HostEndpoint"] = "http://127.0.0.1:9";
        builder.Configuration["FeatureAug:Storage:LocalRoot"] = Path.GetTempPath();
        // What the worker does for the app's entry assembly at start: run the extensions' startup code the
        // Worker SDK generated into it (the Durable extension registers its metadata transformer there).
        var startupInfo = typeof(FunctionsAppSetup).Assembly.GetCustomAttribute<WorkerExtensionStartupCodeExecutorInfoAttribute>()!;
        var startupType = startupInfo.StartupCodeExecutorType;
        ((WorkerExtensionStartup)Activator.CreateInstance(startupType)!).Configure(builder);
        builder.ConfigureFunctionsWebApplication();
        builder.AddFeatureAugFunctions();
        using var host = builder.Build();

        var added = new List<IFunctionMetadata>();
        foreach (var transformer in host.Services.GetServices<IFunctionMetadataTransformer>())
            transformer.Transform(added);

        var registry = new DurableTaskRegistry().AddFeatureAugTasks();
        var expected = new List<(string, string)> { (FeatureAugOrchestrator.Name, "orchestrationTrigger") };
        expected.AddRange(new[]
        {
            nameof(ValidateDatasetActivity), nameof(TrainBackboneActivity), nameof(ResolveChampionBackboneActivity),
            nameof(ExtractFeaturesActivity), nameof(PlanAugmentationActivity), nameof(FuseTailClassesActivity),
            nameof(FineTuneHeadActivity), nameof(EvaluateActivity), nameof(PromoteActivity),
        }.Select(name => (name, "activityTrigger")));
        var actual = added.Select(f => (f.Name!, JsonDocument.Parse(f.RawBindings!.Single()).RootElement.GetProperty("type").GetString()!)).ToList();
        Assert.Equal(expected.Order(), actual.Order());
        // The host must not see two functions of one name.
        Assert.Empty(actual.Select(a => a.Item1).Intersect(Functions().Keys));
    }
}
