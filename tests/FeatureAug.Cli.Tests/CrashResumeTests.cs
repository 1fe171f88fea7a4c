using System.Diagnostics;
using System.Text.Json;
using FeatureAug.Testing;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Cli.Tests;

/// <summary>
/// `featureaug run --engine azure-storage` in a child process, SIGKILLed during Phase I and again during the
/// fan-out, started again with the same run id: the run completes, finished work is not computed again, and
/// the report equals an uninterrupted run's.
/// </summary>
[Collection(TestCollections.BitExact)]
public sealed class CrashResumeTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);
    private readonly string root = Directory.CreateTempSubdirectory("featureaug-crash").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string[] Arguments(string data, string store, string output, string engine, string? connection, string hub) =>
        new[]
        {
            "run", "--dataset", "idx", "--data-dir", data, "--model", "resnet8", "--epochs", "6", "--batch-size", "16", "--lr", "0.05",
            "--nf", "2", "--nt", "4", "--na", "2", "--finetune-iterations", "3000", "--threads", "1", "--device", "cpu",
            "--run-id", "crash-1", "--model-name", "crash-model", "--store-root", store, "--output", output, "--engine", engine,
            "--task-hub", hub, "--engine-lock-seconds", "12",
        }.Concat(connection is null ? Array.Empty<string>() : new[] { "--engine-connection", connection }).ToArray();

    private static Process Start(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "featureaug.dll"));
        foreach (string arg in args) start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task KillWhenAsync(Process process, Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.False(process.HasExited, $"the run ended (exit {(process.HasExited ? process.ExitCode : 0)}) before {what}");
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
        process.Kill(entireProcessTree: true); // SIGKILL: no cleanup, no hand-back
        await process.WaitForExitAsync();
    }

    [Fact]
    public async Task AKilledRunResumesWithoutRedoingFinishedWorkAndMatchesAnUninterruptedRun()
    {
        await using var azurite = new AzuriteFixture();
        await azurite.InitializeAsync();
        string data = TinyDataset.Write(Path.Combine(root, "data"));
        string store = Path.Combine(root, "store"), output = Path.Combine(root, "out");
        var local = new LocalArtifactStore(store);
        string hub = "Crash" + Guid.NewGuid().ToString("N")[..8];
        var args = Arguments(data, store, output, "azure-storage", azurite.ConnectionString, hub);
        string checkpoints = new RunLayout("crash-1").Checkpoints;
        bool Exists(string path) => File.Exists(local.GetFilePath(path));

        // 1. Killed during Phase I, after two of six epoch chunks.
        await KillWhenAsync(Start(args), () => Exists(ArtifactPath.Combine(checkpoints, "epoch-0002.json")), "epoch 2");
        var epoch2 = (await local.GetPropertiesAsync(ArtifactPath.Combine(checkpoints, "epoch-0002.model.safetensors"), default))!.ETag;

        // 2. Restarted, then killed again once the fan-out has been planned.
        await KillWhenAsync(Start(args), () => Exists(new RunLayout("crash-1").Plan), "the fan-out");
        var epoch6 = (await local.GetPropertiesAsync(ArtifactPath.Combine(checkpoints, "epoch-0006.model.safetensors"), default))!.ETag;
        var plan = (await local.GetPropertiesAsync(new RunLayout("crash-1").Plan, default))!.ETag;

        // 3. Restarted: the same run id attaches to the surviving orchestration and completes it.
        var last = Start(args);
        using (var timeout = new CancellationTokenSource(Limit)) await last.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, last.ExitCode);

        // Finished work was reused, not recomputed: the artifacts are the very versions written before the kills.
        Assert.Equal(epoch2, (await local.GetPropertiesAsync(ArtifactPath.Combine(checkpoints, "epoch-0002.model.safetensors"), default))!.ETag);
        Assert.Equal(epoch6, (await local.GetPropertiesAsync(ArtifactPath.Combine(checkpoints, "epoch-0006.model.safetensors"), default))!.ETag);
        Assert.Equal(plan, (await local.GetPropertiesAsync(new RunLayout("crash-1").Plan, default))!.ETag);

        // The same run without interruption, on the in-memory engine in a fresh store, reports the same numbers.
        string calmOutput = Path.Combine(root, "calm-out");
        var calm = Start(Arguments(data, Path.Combine(root, "calm-store"), calmOutput, "memory", null, hub));
        using (var timeout = new CancellationTokenSource(Limit)) await calm.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, calm.ExitCode);
        Assert.Equal(Methods(Path.Combine(calmOutput, "report.json")), Methods(Path.Combine(output, "report.json")));
    }

    private static string Methods(string reportFile)
    {
        using var report = JsonDocument.Parse(File.ReadAllText(reportFile));
        return report.RootElement.GetProperty("methods").GetRawText();
    }
}
