using FeatureAug.Core.Fsa;
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
    TrainingSettings Training,
    FsaOptions Fsa,
    ExecutionSettings Execution);

/// <summary>Phase-I settings (torchvision references/classification style: plain options).</summary>
public sealed record TrainingSettings(
    int Epochs = 12,
    int BatchSize = 128,
    double LearningRate = 0.1,
    double Momentum = 0.9,
    double WeightDecay = 5e-4,
    int WarmupEpochs = 1,
    string Schedule = "cosine",
    int[]? Milestones = null,
    string Loss = "ce",
    int CropPadding = 2,
    int EpochsPerActivity = 1);

/// <summary>How and where the work runs.</summary>
public sealed record ExecutionSettings(
    string Device = "auto",
    int Threads = 0,
    int Seed = 0,
    int ExtractShards = 2,
    double PromotionMargin = 0.0,
    int FuseActivities = 64);
