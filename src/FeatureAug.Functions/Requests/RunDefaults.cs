using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Workflow;

namespace FeatureAug.Functions.Requests;

/// <summary>
/// The settings of runs that a trigger starts without being told them (an upload, the nightly timer)
/// and the base an HTTP request's options are laid over. The Functions app takes the device and
/// thread count from its settings (FeatureAug__Device, FeatureAug__Threads).
/// </summary>
public sealed record RunDefaults(TrainingOptions Training, FsaOptions Fsa, ExecutionSettings Execution)
{
    /// <summary>The library defaults of every record.</summary>
    public static RunDefaults Standard { get; } = new(new TrainingOptions(), new FsaOptions(), new ExecutionSettings());
}
