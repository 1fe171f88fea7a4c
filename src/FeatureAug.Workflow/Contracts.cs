using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;

namespace FeatureAug.Workflow;

/// <summary>Full trains the backbone (Phase I) then rebalances; Rebalance reuses the model's champion backbone.</summary>
public enum RunMode { Full, Rebalance }

/// <summary>
/// Where the data comes from. Either a local directory / preset (<see cref="DataDir"/>) or a data set
/// uploaded to the artifact store under datasets/&lt;<see cref="StoreName"/>&gt;/ with its manifest.
/// </summary>
public sealed record DatasetReference(
    string Kind = "fashion-mnist-lt",
    string? DataDir = null,
    string? StoreName = null,
    double ImbalanceFactor = 100,
    string Profile = "exp",
    int? MaxPerClass = null,
    int? ImageSize = null,
    int Channels = 3);

/// <summary>How and where the work runs. EpochsPerActivity: Phase-I epochs per TrainBackbone activity.</summary>
public sealed record ExecutionSettings(
    string Device = "auto",
    int Threads = 0,
    int Seed = 0,
    int ExtractShards = 2,
    double PromotionMargin = 0.0,
    int FuseActivities = 64,
    int EpochsPerActivity = 1);

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

/// <summary>Class counts and image shape of a validated data set.</summary>
public sealed record DatasetSummary(
    string Name,
    IReadOnlyList<string> Classes,
    int[] TrainCounts,
    int[] TestCounts,
    int Channels,
    int Height,
    int Width,
    float[] Mean,
    float[] Std);

public sealed record TrainChunkInput(RunRequest Request, DatasetSummary Dataset, int StartEpoch, int EndEpoch);

public sealed record TrainChunkResult(int EpochsCompleted, double LastLoss, double Seconds, double ImagesPerSecond, string CheckpointPath);

public sealed record BackboneReference(string CheckpointPath, string Architecture, int Epochs);

public sealed record ExtractInput(RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, int ShardIndex, int ShardCount);

public sealed record ExtractResult(int ShardIndex, int Samples, double Seconds, string Prefix);

public sealed record PlanInput(RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, int ShardCount);

/// <summary>The head/tail split, each tail class's confusing classes and its fusion bank size.</summary>
public sealed record PlannedAugmentation(
    int[] HeadClasses,
    int[] TailClasses,
    IReadOnlyDictionary<int, int[]> ConfusingClasses,
    IReadOnlyDictionary<int, int> BankSizes,
    string PlanInputsPath,
    double Seconds);

/// <summary>
/// What rebuilds the exact <c>AugmentationPlan</c> in any activity: the class counts and the confusing classes ranked by
/// PlanAugmentation (T x N_f numbers; the C x C mean scores they were ranked from stay in that one activity).
/// </summary>
public sealed record PlanInputs(int[] ClassCounts, IReadOnlyDictionary<int, int[]> ConfusingClasses);

/// <summary>One fusion activity's share of the tail classes; the plan inputs give each one's draws and confusing classes.</summary>
public sealed record FuseInput(RunRequest Request, DatasetSummary Dataset, int Batch, int[] TailClasses, string PlanInputsPath);

public sealed record FuseResult(int TailClass, int Fused, int Fallbacks, double Seconds, string Path);

/// <summary>The banks of one fusion activity's tail classes; Seconds is the activity's own wall time.</summary>
public sealed record FuseBatchResult(int Batch, IReadOnlyList<FuseResult> Classes, double Seconds);

/// <summary>Classes one extraction activity covered and what it wrote.</summary>
public sealed record ExtractPart(int ShardIndex, int[] Classes, int[] ClassCounts, int FeatureChannels, int MapHeight, int MapWidth, int ViewsPerSample, string VectorsDType);

public sealed record FineTuneInput(
    RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, PlannedAugmentation Plan,
    IReadOnlyList<FuseResult> Fused, string Method, int ShardCount);

public sealed record HeadResult(string Method, string Path, double Seconds, double FinalLoss, double ReuseFactor);

public sealed record EvaluateInput(
    RunRequest Request, DatasetSummary Dataset, BackboneReference Backbone, PlannedAugmentation Plan,
    IReadOnlyList<FuseResult> Fused, IReadOnlyList<HeadResult> Heads, StageTimings Timings, int ShardCount);

public sealed record StageTimings(double Phase1Seconds, double ExtractSeconds, double FuseSeconds, double FineTuneSeconds);

public sealed record EvaluateResult(
    string ReportPath, string MarkdownPath, IReadOnlyDictionary<string, double> Top1, IReadOnlyDictionary<string, double> TailTop1,
    string ModelPath, string HeadPath, string? ChampionRunId, double? ChampionTop1);

public sealed record PromoteInput(RunRequest Request, EvaluateResult Evaluation, BackboneReference Backbone);

public sealed record PromotionDecision(bool Promoted, double? ChampionTop1, double ChallengerTop1, double Margin, string Reason);

/// <summary>What the orchestration returns.</summary>
public sealed record RunResult(string RunId, string ReportPath, string MarkdownPath, IReadOnlyDictionary<string, double> Top1, IReadOnlyDictionary<string, double> TailTop1, PromotionDecision? Promotion);

/// <summary>The orchestration's custom status: what the run is doing now.</summary>
public sealed record RunStatus(string Stage, string Detail, int StepsDone, int StepsTotal, DateTime UpdatedUtc, DateTime? EtaUtc);
