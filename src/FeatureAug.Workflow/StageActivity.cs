using FeatureAug.Core;
using FeatureAug.Workflow.Inputs;
using Microsoft.DurableTask;
using TorchSharp;

namespace FeatureAug.Workflow;

/// <summary>
/// Shared shape of every FeatureAug activity: bad input is surfaced as <see cref="InvalidRunInputException"/>
/// (never retried), each real computation and each reuse of a stored output is counted, and the device
/// and thread settings of the run are applied.
/// </summary>
public abstract class FeatureAugActivity<TInput, TOutput>(ActivityExecutionLog executions) : TaskActivity<TInput, TOutput>
{
    protected ActivityExecutionLog Executions => executions;

    protected abstract string RunIdOf(TInput input);

    /// <summary>Returns the stored output when this step already finished for the run, else null.</summary>
    protected abstract Task<TOutput?> TryReuseAsync(TInput input, CancellationToken cancellationToken);

    protected abstract Task<TOutput> ComputeAsync(TInput input, CancellationToken cancellationToken);

    public sealed override async Task<TOutput> RunAsync(TaskActivityContext context, TInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string runId = RunIdOf(input), name = GetType().Name;
        var reused = await TryReuseAsync(input, CancellationToken.None);
        if (reused is not null)
        {
            executions.Reused(runId, name);
            return reused;
        }
        var start = DateTimeOffset.UtcNow;
        try
        {
            var output = await ComputeAsync(input, CancellationToken.None);
            executions.Computed(runId, name);
            return output;
        }
        catch (InvalidRunInputException) { throw; }
        catch (Core.Data.DatasetFormatException ex) { throw new InvalidRunInputException(ex.Message, ex); }
        catch (Core.Training.TrainingDivergedException ex) { throw new InvalidRunInputException("training diverged: " + ex.Message, ex); }
        catch (ArgumentException ex) { throw new InvalidRunInputException(ex.Message, ex); }
        finally
        {
            executions.Interval(runId, name, start, DateTimeOffset.UtcNow);
        }
    }

    /// <summary>Resolves the run's device and applies its thread count.</summary>
    protected static torch.Device PrepareDevice(ExecutionSettings execution)
    {
        if (execution.Threads > 0) DeviceSelection.SetThreads(execution.Threads);
        return DeviceSelection.Resolve(execution.Device);
    }
}
