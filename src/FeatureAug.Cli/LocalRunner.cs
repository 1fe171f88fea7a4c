using System.Globalization;
using System.Text.Json;
using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace FeatureAug.Cli;

/// <summary>
/// Runs one orchestration on the embedded Durable engine, shows its progress (stage from the custom
/// status, steps, loss and images/s from the activities), records its status in the store for
/// `featureaug status`, and exports the report, plots and model to the output directory.
/// </summary>
internal sealed class LocalRunner(WorkflowServiceOptions options, EngineChoice engineChoice, TextWriter output, TextWriter error)
{
    public async Task<int> RunAsync(RunRequest request, string outputDirectory, CancellationToken cancellationToken)
    {
        var store = ArtifactStoreFactory.Create(options.Store);
        var finished = await store.TryReadJsonAsync<RunResult>(new RunLayout(request.RunId).Result, cancellationToken);
        if (finished is not null)
        {
            error.WriteLine($"Run {request.RunId} already finished; nothing to do. Exporting its results.");
            await ExportAsync(store, finished.Value, outputDirectory, cancellationToken);
            PrintSummary(await ReadReportAsync(store, finished.Value, cancellationToken), outputDirectory);
            return FeatureAugCli.ExitOk;
        }

        await FetchFashionMnistIfMissingAsync(request, cancellationToken);
        await using var engine = await engineChoice.StartAsync(options, cancellationToken);
        var hub = engine.Services.GetRequiredService<RunProgressHub>();
        ActivityProgress? latest = null;
        hub.Updated += p => { if (p.RunId == request.RunId) latest = p; };

        bool created = await RunLauncher.StartOrAttachAsync(engine.Client, request, cancellationToken);
        error.WriteLine($"{(created ? "Started" : "Attached to")} run {request.RunId} ({request.Architecture} on {request.Dataset.Kind}, {request.Training.Epochs} epochs, store {store.Description}).");

        OrchestrationMetadata final;
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsErrorRedirected)
            final = await FollowWithProgressBarsAsync(engine.Client, store, request.RunId, () => latest, cancellationToken);
        else
            final = await FollowWithLinesAsync(engine.Client, store, request.RunId, () => latest, cancellationToken);

        if (final.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            var failure = final.FailureDetails;
            string reason = failure is null ? final.RuntimeStatus.ToString() : FeatureAugCli.OneLine(InnermostMessage(failure));
            error.WriteLine($"featureaug: run {request.RunId} {final.RuntimeStatus.ToString().ToLowerInvariant()}: {reason}");
            bool badInput = failure is not null && IsBadInput(failure);
            return badInput ? FeatureAugCli.ExitBadInput : FeatureAugCli.ExitFailed;
        }

        var result = final.ReadOutputAs<RunResult>()!;
        await store.WriteJsonAsync(new RunLayout(request.RunId).Result, result, cancellationToken);
        await ExportAsync(store, result, outputDirectory, cancellationToken);
        var report = await ReadReportAsync(store, result, cancellationToken);
        PrintSummary(report, outputDirectory);
        if (result.Promotion is { } promotion)
        {
            string head = report.Candidate is { } candidate ? $" the {HeadMethods.FromKey(candidate.Method).Display()} head" : "";
            output.WriteLine($"Model {request.ModelName}: {(promotion.Promoted ? "promoted" + head : "champion kept over" + head)} ({promotion.Reason}).");
        }
        return FeatureAugCli.ExitOk;
    }

    /// <summary>
    /// Without the Debian package, Fashion-MNIST is downloaded (SHA-256 checked) into the user's cache
    /// here, with a progress bar, before the workflow's activities read it from there.
    /// </summary>
    private async Task FetchFashionMnistIfMissingAsync(RunRequest request, CancellationToken cancellationToken)
    {
        if (request.Dataset.Kind != "fashion-mnist-lt" || request.Dataset.DataDir is not null || request.Dataset.StoreName is not null) return;
        if (Directory.Exists(FashionMnist.DebianPackageDirectory)) return;
        var fashionMnist = new FashionMnist();
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsErrorRedirected)
        {
            error.WriteLine("Fetching Fashion-MNIST into the cache (once) ...");
            await fashionMnist.EnsureFilesAsync(null, cancellationToken);
            return;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var progress = new Progress<DownloadProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.File, out var task))
                        tasks[p.File] = task = context.AddTask(Markup.Escape(p.File), maxValue: p.TotalBytes ?? 1);
                    if (p.TotalBytes is long total) task.MaxValue = total;
                    task.Value = p.BytesReceived;
                });
                await fashionMnist.EnsureFilesAsync(progress, cancellationToken);
            });
    }

    private static bool IsBadInput(Microsoft.DurableTask.TaskFailureDetails failure)
    {
        for (var f = failure; f is not null; f = f.InnerFailure)
            if (f.ErrorType.EndsWith(nameof(InvalidRunInputException), StringComparison.Ordinal)) return true;
        return false;
    }

    private static string InnermostMessage(Microsoft.DurableTask.TaskFailureDetails failure)
    {
        var f = failure;
        while (f.InnerFailure is not null) f = f.InnerFailure;
        return f.ErrorMessage;
    }

    private async Task<OrchestrationMetadata> FollowWithLinesAsync(
        DurableTaskClient client, IArtifactStore store, string runId, Func<ActivityProgress?> latest, CancellationToken cancellationToken)
    {
        string? lastLine = null;
        var lastPrinted = DateTime.MinValue;
        return await RunLauncher.FollowAsync(client, runId, async (instance, token) =>
        {
            var status = await RecordStatusAsync(store, instance, token);
            string line = status is null ? instance.RuntimeStatus.ToString() : $"[{status.Stage}] {status.Detail}";
            if (line != lastLine) { error.WriteLine(line); lastLine = line; }
            if (latest() is { } p && DateTime.UtcNow - lastPrinted > TimeSpan.FromSeconds(15) && p.Total > 0)
            {
                error.WriteLine($"  {p.Stage}: {p.Detail} ({100.0 * p.Done / p.Total:F0}%)" +
                                (p.Loss is { } loss ? $" loss {loss:F4}" : "") + (p.ImagesPerSecond is { } ips ? $" {ips:F0} img/s" : ""));
                lastPrinted = DateTime.UtcNow;
            }
        }, TimeSpan.FromMilliseconds(500), cancellationToken);
    }

    private async Task<OrchestrationMetadata> FollowWithProgressBarsAsync(
        DurableTaskClient client, IArtifactStore store, string runId, Func<ActivityProgress?> latest, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var stages = new Dictionary<string, ProgressTask>();
                ProgressTask? current = null;
                var final = await RunLauncher.FollowAsync(client, runId, async (instance, token) =>
                {
                    if (await RecordStatusAsync(store, instance, token) is not { } status) return;
                    if (!stages.TryGetValue(status.Stage, out var task))
                    {
                        if (current is not null && !current.IsFinished) current.Value = current.MaxValue;
                        task = context.AddTask(Markup.Escape(status.Stage), maxValue: Math.Max(1, status.StepsTotal));
                        stages[status.Stage] = task;
                    }
                    current = task;
                    task.MaxValue = Math.Max(1, status.StepsTotal);
                    task.Value = Math.Min(task.MaxValue, status.StepsDone);
                    task.Description = Markup.Escape($"{status.Stage}: {status.Detail}");
                    var p = latest();
                    if (p is not null && p.Stage == status.Stage && p.Total > 0)
                    {
                        task.MaxValue = p.Total;
                        task.Value = Math.Min(p.Total, p.Done);
                        task.Description = Markup.Escape($"{p.Stage}: {p.Detail}" +
                            (p.Loss is { } loss ? $" loss {loss:F4}" : "") + (p.ImagesPerSecond is { } ips ? $" {ips:F0} img/s" : ""));
                    }
                }, TimeSpan.FromMilliseconds(400), cancellationToken);
                if (final.RuntimeStatus == OrchestrationRuntimeStatus.Completed)
                    foreach (var task in stages.Values) task.Value = task.MaxValue;
                return final;
            });
    }

    private string? lastRecorded;

    /// <summary>Writes runs/&lt;id&gt;/status.json when the status changed, and returns the custom status.</summary>
    private async Task<RunStatus?> RecordStatusAsync(IArtifactStore store, OrchestrationMetadata instance, CancellationToken cancellationToken)
    {
        var status = RunLauncher.StatusOf(instance);
        string key = $"{instance.RuntimeStatus}|{instance.SerializedCustomStatus}";
        if (key != lastRecorded)
        {
            lastRecorded = key;
            string? failure = instance.FailureDetails is { } f ? FeatureAugCli.OneLine(InnermostMessage(f)) : null;
            await store.WriteJsonAsync(new RunLayout(instance.InstanceId).Status,
                new RunStatusRecord(instance.InstanceId, instance.RuntimeStatus.ToString(), status, failure, DateTimeOffset.UtcNow), cancellationToken);
        }
        return status;
    }

    /// <summary>Copies report.json, report.md, the plots, the final model and the checkpoints into the output directory.</summary>
    private static async Task ExportAsync(IArtifactStore store, RunResult result, string outputDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outputDirectory);
        foreach (string path in await store.ListAsync(new RunLayout(result.RunId).Reports, cancellationToken))
            await store.DownloadToFileAsync(path, Path.Combine(outputDirectory, path[(path.LastIndexOf('/') + 1)..]), cancellationToken);
        string model = new RunLayout(result.RunId).Model;
        if (await store.ExistsAsync(model, cancellationToken))
            await store.DownloadToFileAsync(model, Path.Combine(outputDirectory, "model.safetensors"), cancellationToken);
        string checkpoints = Path.Combine(outputDirectory, "checkpoints");
        foreach (string path in await store.ListAsync(new RunLayout(result.RunId).Checkpoints, cancellationToken))
        {
            Directory.CreateDirectory(checkpoints);
            await store.DownloadToFileAsync(path, Path.Combine(checkpoints, path[(path.LastIndexOf('/') + 1)..]), cancellationToken);
        }
    }

    private static async Task<RunReport> ReadReportAsync(IArtifactStore store, RunResult result, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(result.ReportPath, cancellationToken);
        using var reader = new StreamReader(stream);
        return RunReport.FromJson(await reader.ReadToEndAsync(cancellationToken));
    }

    private void PrintSummary(RunReport report, string outputDirectory)
    {
        static string Percent(double? v) => v is null ? "-" : (v.Value * 100).ToString("F2", CultureInfo.InvariantCulture);
        output.WriteLine();
        int validationImages = report.Dataset.ValidationCounts.Sum();
        output.WriteLine($"Balanced accuracy, {report.Dataset.Name}, {report.Model.Architecture} ({report.Model.Epochs} epochs): " +
            (validationImages > 0
                ? $"validation ({validationImages} images, {report.Dataset.ValidationSource}) chose each head's settings and the candidate; test ({report.Dataset.TestCounts.Sum()} images) is reported only."
                : $"no validation split; test ({report.Dataset.TestCounts.Sum()} images)."));
        output.WriteLine($"{"method",-17}{"val",8}{"test",8}{"head",8}{"tail",8}{"many",8}{"medium",8}{"few",8}  chosen with");
        foreach (var method in HeadMethods.All.Where(m => report.Methods.ContainsKey(m.Key())))
        {
            var m = report.Methods[method.Key()];
            string marker = report.Candidate?.Method == method.Key() ? " *" : "";
            output.WriteLine($"{method.Display(),-17}{Percent(m.ValidationTop1),8}{Percent(m.Top1),8}{Percent(m.HeadTop1),8}{Percent(m.TailTop1),8}" +
                $"{Percent(m.Many),8}{Percent(m.Medium),8}{Percent(m.Few),8}  {m.Configuration?.Describe() ?? ""}{marker}");
        }
        if (report.Candidate is { } candidate)
            output.WriteLine($"* exported and put forward: {HeadMethods.FromKey(candidate.Method).Display()}. {candidate.Reason}");
        output.WriteLine($"Head classes {string.Join(",", report.Split.HeadClasses)}; tail classes {string.Join(",", report.Split.TailClasses)}.");
        foreach (string adaptation in report.Adaptations) output.WriteLine($"adapted: {adaptation}");
        output.WriteLine("Timings: " + string.Join(", ", report.Timings.Select(t => $"{t.Key} {t.Value.ToString("F1", CultureInfo.InvariantCulture)}")));
        foreach (string warning in report.Warnings) output.WriteLine($"warning: {warning}");
        output.WriteLine($"Report: {Path.Combine(outputDirectory, "report.md")}");
    }
}

/// <summary>What the CLI records of a run it follows, for `featureaug status` from another process.</summary>
public sealed record RunStatusRecord(string RunId, string RuntimeStatus, RunStatus? Status, string? Failure, DateTimeOffset UpdatedUtc);
