using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Workflow.Inputs;

namespace FeatureAug.Workflow;

/// <summary>Full trains the backbone (Phase I) then rebalances; Rebalance reuses the model's champion backbone.</summary>
public enum RunMode { Full, Rebalance }

/// <summary>The orchestration's input: everything needed to run or resume one run.</summary>
public sealed record RunRequest(
    string RunId,
    DatasetReference Dataset,
    string ModelName,
    string Architecture,
    RunMode Mode,
    TrainingOptions Training,
    FsaOptions Fsa,
    ExecutionSettings Execution);

/// <summary>
/// How and where the work runs. EpochsPerActivity: Phase-I epochs per TrainBackbone activity. Seed: the run's one seed.
/// Promote: which head the run puts forward as the model's challenger and exports: "best" (best balanced accuracy on
/// the validation split, among every method) or a method key (<see cref="HeadMethods.Keys"/>).
/// </summary>
public sealed record ExecutionSettings(
    string Device = "auto",
    int Threads = 0,
    int Seed = 0,
    int ExtractShards = 2,
    double PromotionMargin = 0.0,
    int FuseActivities = 64,
    int EpochsPerActivity = 1,
    string Promote = ExecutionSettings.PromoteBest)
{
    /// <summary>The <see cref="Promote"/> value that lets validation choose.</summary>
    public const string PromoteBest = "best";
}
