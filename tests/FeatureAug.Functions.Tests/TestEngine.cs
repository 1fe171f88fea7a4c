using FeatureAug.LocalEngine;
using FeatureAug.Testing;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FeatureAug.Functions.Tests;

/// <summary>
/// The embedded Durable engine with the real workflow registered, on a local artifact store in a temp
/// folder or on an Azurite container: what the functions' logic talks to in these tests.
/// </summary>
public sealed class TestEngine : IAsyncDisposable
{
    private readonly string _root;

    private TestEngine(string root, EmbeddedEngine engine)
    {
        _root = root;
        Engine = engine;
        Store = engine.Services.GetRequiredService<IArtifactStore>();
        Registry = engine.Services.GetRequiredService<ModelRegistry>();
    }

    public EmbeddedEngine Engine { get; }
    public DurableTaskClient Client => Engine.Client;
    public IArtifactStore Store { get; }
    public ModelRegistry Registry { get; }

    public static Uri ApiBase { get; } = new("https://featureaug.example/api/");

    /// <summary>An engine whose artifacts live in a local folder.</summary>
    public static Task<TestEngine> StartLocalAsync() => StartAsync(root => new ArtifactStoreOptions
    {
        Kind = ArtifactStoreKind.Local,
        LocalRoot = Path.Combine(root, "store"),
    });

    /// <summary>An engine whose artifacts live in fresh containers (a unique prefix) of the running Azurite.</summary>
    public static Task<TestEngine> StartAzuriteAsync(AzuriteFixture azurite) => StartAsync(_ => new ArtifactStoreOptions
    {
        Kind = ArtifactStoreKind.Blob,
        ConnectionString = azurite.ConnectionString,
        ContainerPrefix = "fn-" + Guid.NewGuid().ToString("N")[..20] + "-",
    });

    private static async Task<TestEngine> StartAsync(Func<string, ArtifactStoreOptions> store)
    {
        string root = Directory.CreateTempSubdirectory("featureaug-functions-tests-").FullName;
        var options = new WorkflowServiceOptions { Store = store(root), WorkDirectory = Path.Combine(root, "work") };
        var engine = await EmbeddedEngine.StartAsync(options, activityConcurrency: 1);
        return new TestEngine(root, engine);
    }

    /// <summary>Writes a small artifact (text) at <paramref name="path"/>.</summary>
    public async Task PutAsync(string path, string content)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
        await Store.WriteAsync(path, stream, CancellationToken.None);
    }

    /// <summary>
    /// Starts a run of the FeatureAug orchestrator and suspends it at once: a run that is "still going"
    /// without doing further work. (The in-memory backend ignores scheduled start times, so a future
    /// start cannot hold a run back.) Should the run end before the suspension lands, a fresh id is tried.
    /// </summary>
    public async Task<string> StartSuspendedRunAsync(RunRequest request)
    {
        for (int attempt = 1; attempt <= 5; attempt++)
        {
            string id = attempt == 1 ? request.RunId : $"{request.RunId}-{attempt}";
            await Client.ScheduleNewOrchestrationInstanceAsync(FeatureAugOrchestrator.Name, request with { RunId = id },
                new StartOrchestrationOptions(id));
            await Client.SuspendInstanceAsync(id, "held by a test");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                var instance = await Client.GetInstanceAsync(id, getInputsAndOutputs: false, timeout.Token);
                if (instance!.RuntimeStatus == OrchestrationRuntimeStatus.Suspended)
                    return id;
                if (instance.IsCompleted)
                    break;
                await Task.Delay(20, timeout.Token);
            }
        }
        throw new InvalidOperationException($"Could not hold a run of '{request.RunId}' suspended in 5 attempts.");
    }

    /// <summary>
    /// Starts a run on the tiny data set with far more epochs than a test lasts and returns once it is training:
    /// a run that is really going (a Phase-I epoch chunk in flight), as users terminate them.
    /// </summary>
    public async Task<string> StartTrainingRunAsync(string runId)
    {
        string data = TinyDataset.Write(Path.Combine(_root, "data-" + runId));
        var request = TinyDataset.Request(runId, data);
        request = request with { Training = request.Training with { Epochs = 10_000 }, Execution = request.Execution with { EpochsPerActivity = 1 } };
        await Client.ScheduleNewOrchestrationInstanceAsync(FeatureAugOrchestrator.Name, request, new StartOrchestrationOptions(runId));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var instance = await Client.GetInstanceAsync(runId, getInputsAndOutputs: true, timeout.Token);
            if (instance!.IsCompleted)
                throw new InvalidOperationException($"Run '{runId}' ended ({instance.RuntimeStatus}) before it started training: {instance.SerializedOutput}");
            if (instance.ReadCustomStatusAs<RunStatus>()?.Stage == "TrainBackbone")
                return runId;
            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>Waits until the run has finished (bounded, so a hung run fails the test instead of the suite).</summary>
    public async Task<OrchestrationMetadata> WaitForEndAsync(string runId, int seconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        return await Client.WaitForInstanceCompletionAsync(runId, getInputsAndOutputs: true, timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { /* a file still open by a finishing activity; the temp folder is cleaned by the OS */ }
    }
}
