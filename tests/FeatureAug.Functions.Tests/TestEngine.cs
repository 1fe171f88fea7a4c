using FeatureAug.Workflow;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using FeatureAug.Workflow.Tests.Azurite;
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

    /// <summary>An engine whose artifacts live in a fresh container of the running Azurite.</summary>
    public static Task<TestEngine> StartAzuriteAsync(AzuriteFixture azurite) => StartAsync(_ => new ArtifactStoreOptions
    {
        Kind = ArtifactStoreKind.Blob,
        ConnectionString = azurite.ConnectionString,
        Container = "fn-" + Guid.NewGuid().ToString("N")[..20],
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
    /// Creates an instance of the FeatureAug orchestrator that stays Pending for an hour (a scheduled start):
    /// a run that is "still going" without doing any work.
    /// </summary>
    public Task<string> SchedulePendingRunAsync(RunRequest request) =>
        Client.ScheduleNewOrchestrationInstanceAsync(FeatureAugOrchestrator.Name, request,
            new StartOrchestrationOptions(request.RunId, DateTimeOffset.UtcNow.AddHours(1)));

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
