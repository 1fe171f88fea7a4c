using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Functions.Requests;
using FeatureAug.Functions.Triggers;
using FeatureAug.Testing;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;

namespace FeatureAug.Functions.Tests;

/// <summary>The nightly timer's choice of models, on a real registry and the embedded engine (local store and Azurite).</summary>
public abstract class NightlyRebalancerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Night = new(2026, 1, 31, 2, 0, 0, TimeSpan.Zero);
    private TestEngine _engine = null!;

    protected abstract Task<TestEngine> StartEngineAsync();

    public async Task InitializeAsync() => _engine = await StartEngineAsync();

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private Task RegisterAsync(string name, bool nightly, string? backbone = null) =>
        _engine.Registry.RegisterAsync(new ModelRecord(name, "resnet8", 1, ["a", "b"],
            new DatasetReference(Kind: "idx", StoreName: "nightly-data", Channels: 1), nightly, Night, backbone), default);

    [Fact]
    public async Task StartsOneRebalancePerNightlyModel_SkippingBusyAndUntrainedModels()
    {
        await RegisterAsync("alpha", nightly: true, backbone: "models/alpha/backbones/b.safetensors");
        await RegisterAsync("bravo", nightly: true);                                                      // nothing to rebalance yet
        await RegisterAsync("charlie", nightly: false, backbone: "models/charlie/backbones/b.safetensors"); // not nightly
        await RegisterAsync("delta", nightly: true, backbone: "models/delta/backbones/b.safetensors");     // still busy
        string busyRun = await _engine.StartSuspendedRunAsync(new RunRequest("delta-yesterday",
            new DatasetReference(Kind: "idx", StoreName: "nightly-data", Channels: 1), "delta", "resnet8",
            RunMode.Full, new TrainingOptions(), new FsaOptions(), new ExecutionSettings()));
        var defaults = RunDefaults.Standard with { Execution = new ExecutionSettings(Device: "cpu") };

        var decisions = await new NightlyRebalancer(_engine.Registry, _engine.Client, defaults).RunAsync(Night, default);

        Assert.Equal(
            new[]
            {
                ("alpha", "nightly-alpha-20260131", NightlyOutcome.Started),
                ("bravo", "nightly-bravo-20260131", NightlyOutcome.SkippedNoBackbone),
                ("delta", "nightly-delta-20260131", NightlyOutcome.SkippedBusy),
            },
            decisions.Select(d => (d.ModelName, d.RunId, d.Outcome)).ToArray());
        Assert.Matches($"^run .*{busyRun} of this model is still going$", decisions[2].Reason);

        var started = await _engine.Client.GetInstanceAsync("nightly-alpha-20260131", getInputsAndOutputs: true);
        var request = started!.ReadInputAs<RunRequest>()!;
        Assert.Equal(RunMode.Rebalance, request.Mode);
        Assert.Equal("alpha", request.ModelName);
        Assert.Equal("nightly-data", request.Dataset.StoreName);
        Assert.Equal("cpu", request.Execution.Device);
        Assert.Null(await _engine.Client.GetInstanceAsync("nightly-bravo-20260131"));
        Assert.Null(await _engine.Client.GetInstanceAsync("nightly-delta-20260131"));

        // The timer firing again the same day starts nothing new; its own run does not count as "busy".
        var again = await new NightlyRebalancer(_engine.Registry, _engine.Client, defaults).RunAsync(Night.AddHours(1), default);
        Assert.Equal(NightlyOutcome.AlreadyStarted, again.Single(d => d.ModelName == "alpha").Outcome);

        await _engine.WaitForEndAsync("nightly-alpha-20260131");
    }

    [Fact]
    public async Task ChampionCountsAsABackbone_AndNoNightlyModelsMeansNoDecisions()
    {
        Assert.Empty(await new NightlyRebalancer(_engine.Registry, _engine.Client).RunAsync(Night, default));

        await RegisterAsync("echo", nightly: true);
        await _engine.Registry.TryPromoteAsync("echo", new ChampionPointer(0, "run-1", "runs/run-1/checkpoints/b.safetensors", "h", "m", "fsa", 0.7, Night), 0, null, default);

        var decision = Assert.Single(await new NightlyRebalancer(_engine.Registry, _engine.Client).RunAsync(Night, default));

        Assert.Equal(NightlyOutcome.Started, decision.Outcome);
        await _engine.WaitForEndAsync(decision.RunId);
    }
}

public sealed class NightlyRebalancerLocalTests : NightlyRebalancerTests
{
    protected override Task<TestEngine> StartEngineAsync() => TestEngine.StartLocalAsync();
}

[Collection(AzuriteCollection.Name)]
public sealed class NightlyRebalancerAzuriteTests(AzuriteFixture azurite) : NightlyRebalancerTests
{
    protected override Task<TestEngine> StartEngineAsync() => TestEngine.StartAzuriteAsync(azurite);
}
