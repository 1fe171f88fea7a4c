using FeatureAug.Core;
using FeatureAug.Workflow.Inputs;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Workflow;

/// <summary>
/// Shared shape of every FeatureAug activity: bad input is surfaced as <see cref="InvalidRunInputException"/>
/// (never retried), each real computation and each reuse of a stored output is counted and logged, the
/// host's shutdown cancels the body, and the device and thread settings of the run are applied.
/// </summary>
public abstract class StageActivity<TInput, TOutput>(StageServices services) : TaskActivity<TInput, TOutput>
{
    private ILogger? logger;

    protected ActivityExecutionLog Executions => services.Executions;

    /// <summary>The activity's logger (category: its type).</summary>
    protected ILogger Logger => logger ??= services.Loggers.CreateLogger(GetType());

    protected abstract string RunIdOf(TInput input);

    /// <summary>Returns the stored output when this step already finished for the run, else null.</summary>
    protected abstract Task<TOutput?> TryReuseAsync(TInput input, CancellationToken cancellationToken);

    protected abstract Task<TOutput> ComputeAsync(TInput input, CancellationToken cancellationToken);

    public sealed override async Task<TOutput> RunAsync(TaskActivityContext context, TInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string runId = RunIdOf(input), name = GetType().Name;
        // The host's shutdown is what stops a body early. The exception it causes goes back to the engine
        // unchanged: engines that outlive a process hand the activity back before cancelling it, so the
        // failure is dropped and the activity runs again when the run resumes.
        var cancellationToken = services.Stopping;
        // Outside the try: the host's shutdown wait ends only after the cancellation below is logged.
        using var running = services.Enter();
        var start = DateTimeOffset.UtcNow;
        Logger.LogInformation("Run {RunId}: {Activity} started.", runId, name);
        try
        {
            var reused = await TryReuseAsync(input, cancellationToken);
            if (reused is not null)
            {
                Executions.Reused(runId, name);
                Logger.LogInformation("Run {RunId}: {Activity} reused its stored output.", runId, name);
                return reused;
            }
            start = DateTimeOffset.UtcNow;
            try
            {
                var output = await ComputeAsync(input, cancellationToken);
                Executions.Computed(runId, name);
                Logger.LogInformation("Run {RunId}: {Activity} computed in {Seconds:F1} s.", runId, name, (DateTimeOffset.UtcNow - start).TotalSeconds);
                return output;
            }
            catch (Exception ex) when (AsBadInput(ex) is { } badInput)
            {
                Logger.LogWarning("Run {RunId}: {Activity} rejected its input: {Problem}", runId, name, badInput.Message);
                if (ReferenceEquals(badInput, ex)) throw;
                throw badInput;
            }
            finally
            {
                Executions.Interval(runId, name, start, DateTimeOffset.UtcNow);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Logger.LogWarning("Run {RunId}: {Activity} cancelled by the host's shutdown after {Seconds:F1} s; it runs again when the run resumes.",
                runId, name, (DateTimeOffset.UtcNow - start).TotalSeconds);
            throw;
        }
    }

    private static InvalidRunInputException? AsBadInput(Exception exception) => exception switch
    {
        InvalidRunInputException badInput => badInput,
        Core.Data.DatasetFormatException => new InvalidRunInputException(exception.Message, exception),
        Core.Training.TrainingDivergedException => new InvalidRunInputException("training diverged: " + exception.Message, exception),
        ArgumentException => new InvalidRunInputException(exception.Message, exception),
        _ => null,
    };
}
