using System.Diagnostics;
using System.Text;
using FeatureAug.Testing;
using FeatureAug.Workflow.Storage;
using Xunit.Abstractions;

namespace FeatureAug.Cli.Tests;

/// <summary>
/// Ctrl-C as a user gives it: SIGINT to a real `featureaug run` process in Phase I (in-memory engine). The run
/// stops within a training step, keeps its finished epochs, prints how to resume and exits 130; the printed
/// command finishes the run and reuses the kept epochs.
/// </summary>
[Collection(TestCollections.BitExact)] // runs alone: its time bound measures the CLI, not the tests beside it
public sealed class InterruptTests(ITestOutputHelper output) : IDisposable
{
    private const int Epochs = 8;
    private const string RunId = "sigint-1";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);
    private readonly string root = Directory.CreateTempSubdirectory("featureaug-sigint").FullName;
    private readonly List<Process> processes = new();

    public void Dispose()
    {
        foreach (var process in processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task CtrlCInPhaseOneStopsWithinAStepKeepsFinishedEpochsAndTheResumeCommandFinishesTheRun()
    {
        // Ten times the tiny set: an epoch is ~75 steps, seconds of work, where a step takes milliseconds.
        string data = TinyDataset.Write(Path.Combine(root, "data"), trainCounts: TinyDataset.TrainCounts.Select(n => 10 * n).ToArray());
        string store = Path.Combine(root, "store");
        string[] args =
        {
            "run", "--dataset", "idx", "--data-dir", data, "--model", "resnet8", "--epochs", Epochs.ToString(), "--batch-size", "16",
            "--lr", "0.05", "--nf", "2", "--nt", "4", "--na", "2", "--finetune-iterations", "100", "--threads", "1", "--device", "cpu",
            "--run-id", RunId, "--store-root", store, "--output", Path.Combine(root, "out"),
        };
        var local = new LocalArtifactStore(store);
        var layout = new RunLayout(RunId);
        int Finished() => Enumerable.Range(1, Epochs).TakeWhile(epoch => File.Exists(local.GetFilePath(layout.CheckpointManifest(epoch)))).Count();

        var (run, error) = Start(args);
        await WaitUntilAsync(run, () => Finished() >= 1, "epoch 1");
        var epochTime = Stopwatch.StartNew();
        await WaitUntilAsync(run, () => Finished() >= 2, "epoch 2");
        epochTime.Stop();
        int finishedAtSignal = Finished();
        var kept = await VersionsAsync(local, layout, finishedAtSignal);

        var stopping = Stopwatch.StartNew();
        await SendSigIntAsync(run);
        await ExitAsync(run, Limit, "after Ctrl-C");
        stopping.Stop();

        output.WriteLine($"{finishedAtSignal} epochs finished at the signal, one took {epochTime.Elapsed.TotalSeconds:F1} s; " +
                         $"stopped in {stopping.Elapsed.TotalSeconds:F1} s with {Finished()} finished");
        Assert.True(run.ExitCode == 130, $"exit {run.ExitCode}; stderr: {error}");
        // Well under the epochs left, which an ignored Ctrl-C would train; at most the epoch under way may have
        // finished (published as the cancellation arrived), none after it.
        int left = Epochs - finishedAtSignal;
        Assert.True(stopping.Elapsed < left * epochTime.Elapsed / 2,
            $"stopping took {stopping.Elapsed.TotalSeconds:F1} s; an epoch takes {epochTime.Elapsed.TotalSeconds:F1} s, {left} were left");
        Assert.InRange(Finished(), finishedAtSignal, finishedAtSignal + 1);
        Assert.False(await local.ExistsAsync(layout.Plan, default), "the run went on past Phase I");
        string message = error.ToString();
        Assert.Contains($"run {RunId} stopped", message);
        Assert.Contains("Resume it with:" + Environment.NewLine + "  featureaug " + string.Join(" ", args) + Environment.NewLine, message);
        Assert.Equal(kept, await VersionsAsync(local, layout, finishedAtSignal));

        // The printed command (the same one: it named its run id) finishes the run without training the kept epochs again.
        var (resume, resumeError) = Start(args);
        await ExitAsync(resume, Limit, "resuming");
        Assert.True(resume.ExitCode == 0, $"exit {resume.ExitCode}; stderr: {resumeError}");
        Assert.Equal(Epochs, Finished());
        Assert.Equal(kept, await VersionsAsync(local, layout, finishedAtSignal));
        Assert.True(File.Exists(Path.Combine(root, "out", "report.json")));
    }

    /// <summary>The version (ETag) of every checkpoint file of epochs 1..<paramref name="epochs"/>.</summary>
    private static async Task<List<string>> VersionsAsync(LocalArtifactStore store, RunLayout layout, int epochs)
    {
        var versions = new List<string>();
        foreach (string path in await store.ListAsync(layout.Checkpoints, default))
        {
            if (int.Parse(Path.GetFileName(path)["epoch-".Length..("epoch-".Length + 4)]) <= epochs)
                versions.Add(path + " " + (await store.GetPropertiesAsync(path, default))!.ETag);
        }
        Assert.Equal(3 * epochs, versions.Count);
        return versions.Order(StringComparer.Ordinal).ToList();
    }

    private (Process Process, StringBuilder Error) Start(string[] args)
    {
        // `env --default-signal=INT`: SIGINT as a terminal delivers it, even when this test runs in a background
        // job of a non-interactive shell, which starts it (and so its children) with SIGINT ignored.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "featureaug.dll") }.Concat(args))
            start.ArgumentList.Add(arg);
        var error = new StringBuilder();
        var process = Process.Start(start)!;
        processes.Add(process);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { lock (error) error.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, error);
    }

    private static async Task WaitUntilAsync(Process process, Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.False(process.HasExited, $"the run ended (exit {(process.HasExited ? process.ExitCode : 0)}) before {what}");
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    private static async Task ExitAsync(Process process, TimeSpan limit, string when)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"the CLI did not exit within {limit.TotalMinutes:F0} minutes {when}");
        }
    }

    private static async Task SendSigIntAsync(Process process)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-INT", process.Id.ToString() } })!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }
}
