using System.CommandLine;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;

namespace FeatureAug.Cli;

/// <summary>The options of `featureaug run`, and their mapping onto a <see cref="RunRequest"/>.</summary>
internal sealed class RunOptionsBinding
{
    private static readonly TrainingOptions TrainingDefaults = new();
    private static readonly FsaOptions FsaDefaults = new();
    private static readonly ExecutionSettings ExecutionDefaults = new();

    public Option<string> Dataset { get; } = new("--dataset")
    {
        Description = "fashion-mnist-lt | cifar10-lt | cifar100-lt | idx | cifar10 | cifar100 | imagefolder",
        DefaultValueFactory = _ => "fashion-mnist-lt",
    };
    public Option<string?> DataDir { get; } = new("--data-dir") { Description = "Directory with the data set files" };
    public Option<double> ImbalanceFactor { get; } = new("--imbalance-factor") { Description = "n_max / n_min of the long-tailed training set", DefaultValueFactory = _ => 100 };
    public Option<string> Profile { get; } = new("--profile") { Description = "exp | step", DefaultValueFactory = _ => "exp" };
    public Option<int?> MaxPerClass { get; } = new("--max-per-class") { Description = "Cap on training images per class" };
    public Option<int?> ImageSize { get; } = new("--image-size") { Description = "imagefolder: resize images to SIZE x SIZE" };
    public Option<int> Channels { get; } = new("--channels") { Description = "imagefolder: 1 (grayscale) or 3 (RGB)", DefaultValueFactory = _ => 3 };
    public Option<double> ValFraction { get; } = new("--val-fraction")
    {
        Description = "Share of every training class held out as the validation split that chooses each head's settings and the promoted head (0 = none; an imagefolder val/ folder is used instead)",
        DefaultValueFactory = _ => new DatasetReference().ValFraction,
    };
    public Option<string> Model { get; } = new("--model")
    {
        Description = "resnet8 | resnet20 | resnet32 | resnet44 | resnet56 | resnet18 | resnet34",
        DefaultValueFactory = _ => "resnet8",
    };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Phase-I epochs", DefaultValueFactory = _ => TrainingDefaults.Epochs };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Phase-I batch size", DefaultValueFactory = _ => TrainingDefaults.BatchSize };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "Phase-I learning rate", DefaultValueFactory = _ => TrainingDefaults.LearningRate };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "Phase-I weight decay", DefaultValueFactory = _ => TrainingDefaults.WeightDecay };
    public Option<int?> WarmupEpochs { get; } = new("--warmup-epochs") { Description = "Linear warm-up epochs (default 1, or 0 for a 1-epoch run)" };
    public Option<string> Schedule { get; } = new("--schedule") { Description = "cosine | step", DefaultValueFactory = _ => ScheduleName(TrainingDefaults.Schedule) };
    public Option<int> EpochsPerActivity { get; } = new("--epochs-per-activity") { Description = "Phase-I epochs per workflow activity", DefaultValueFactory = _ => ExecutionDefaults.EpochsPerActivity };
    public Option<string> Device { get; } = new("--device") { Description = "auto | cpu | cuda (auto = CUDA when available)", DefaultValueFactory = _ => "auto" };
    public Option<int> Threads { get; } = new("--threads") { Description = "CPU threads for TorchSharp (0 = all cores)", DefaultValueFactory = _ => 0 };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of every random choice", DefaultValueFactory = _ => 0 };
    public Option<string> Output { get; } = new("--output") { Description = "Directory for report.json, report.md, plots and checkpoints", DefaultValueFactory = _ => "runs/latest" };

    public Option<double> TauS { get; } = new("--tau-s") { Description = "CAM threshold above which a location is class-specific", DefaultValueFactory = _ => FsaDefaults.TauS };
    public Option<double> TauG { get; } = new("--tau-g") { Description = "CAM threshold below which a location is class-generic", DefaultValueFactory = _ => FsaDefaults.TauG };
    public Option<double> HeadRatio { get; } = new("--head-ratio") { Description = "h_r: share of training samples in the head classes", DefaultValueFactory = _ => FsaDefaults.HeadRatio };
    public Option<int> Na { get; } = new("--na") { Description = "N_a: fused features per real tail sample in a batch", DefaultValueFactory = _ => FsaDefaults.Na };
    public Option<int?> Nf { get; } = new("--nf") { Description = "N_f: confusing classes per tail class (default 3, or C - 1 with fewer than 4 classes)" };
    public Option<int> Nt { get; } = new("--nt") { Description = "N_t: real tail samples per batch", DefaultValueFactory = _ => FsaDefaults.Nt };
    public Option<int> FineTuneIterations { get; } = new("--finetune-iterations") { Description = "Phase-II iterations", DefaultValueFactory = _ => FsaDefaults.FineTuneIterations };
    public Option<double> FineTuneLearningRate { get; } = new("--finetune-lr") { Description = "Phase-II learning rate without a validation split", DefaultValueFactory = _ => FsaDefaults.FineTuneLearningRate };
    public Option<double> CrtReinitLearningRate { get; } = new("--crt-reinit-lr") { Description = "Learning rate of the re-initialised cRT without a validation split", DefaultValueFactory = _ => FsaDefaults.CrtReinitLearningRate };
    public Option<double[]> LearningRateGrid { get; } = new("--finetune-lr-grid")
    {
        Description = "Phase-II learning rates every trained head is tried at, chosen on validation (comma-separated)",
        DefaultValueFactory = _ => FsaDefaults.LearningRateGrid,
        CustomParser = result => ParseNumbers(result),
    };
    public Option<int> Views { get; } = new("--views") { Description = "Augmented views per training image besides the clean one", DefaultValueFactory = _ => FsaDefaults.Views };
    public Option<bool> StoreMapsAsHalf { get; } = new("--maps-half") { Description = "Store feature-map shards as float16 (half the size)" };
    public Option<bool> ConfusingHeadOnly { get; } = new("--confusing-head-only") { Description = "Restrict confusing classes to head classes" };
    public Option<string> HeadSampling { get; } = new("--head-sampling") { Description = "FSA head slots: uniform (paper) | class-balanced", DefaultValueFactory = _ => "uniform" };
    public Option<string> TailSampling { get; } = new("--tail-sampling") { Description = "FSA real tail draws: uniform (paper) | class-balanced", DefaultValueFactory = _ => "uniform" };
    public Option<bool> MatchFusedNorm { get; } = new("--match-fused-norm") { Description = "Rescale fused features to the norm of their real tail sample" };
    public Option<bool> RejectAmbiguousFused { get; } = new("--reject-ambiguous-fused")
    {
        Description = "Replace fused features nearer their confusing class's mean than their tail class's by the real tail feature",
    };

    public Option<string?> RunId { get; } = new("--run-id") { Description = "Run id (default: derived from the time); re-using a finished id does no work" };
    public Option<string> Mode { get; } = new("--mode") { Description = "full | rebalance", DefaultValueFactory = _ => "full" };
    public Option<string?> ModelName { get; } = new("--model-name") { Description = "Registered model to create or rebalance" };
    public Option<int> ExtractShards { get; } = new("--extract-shards") { Description = "Feature-extraction activities (fan-out)", DefaultValueFactory = _ => ExecutionDefaults.ExtractShards };
    public Option<int> FuseActivities { get; } = new("--fuse-activities")
    {
        Description = "Most fusion activities in the fan-out; the tail classes are dealt round-robin over them",
        DefaultValueFactory = _ => ExecutionDefaults.FuseActivities,
    };
    public Option<string> Engine { get; } = new("--engine")
    {
        Description = "memory (embedded, in-process state) | azure-storage (orchestration state in Azure Storage: survives a crash of this process)",
        DefaultValueFactory = _ => "memory",
    };
    public Option<string?> EngineConnection { get; } = new("--engine-connection")
    {
        Description = "azure-storage engine: connection string (e.g. Azurite); default: --connection, else the account of --account-url with DefaultAzureCredential",
    };
    public Option<string> TaskHub { get; } = new("--task-hub") { Description = "azure-storage engine: task hub name", DefaultValueFactory = _ => "FeatureAugLocal" };
    public Option<int> EngineLockSeconds { get; } = new("--engine-lock-seconds")
    {
        Description = "azure-storage engine: message visibility timeout; after a crash, unfinished work is picked up again this long after it was last renewed",
        DefaultValueFactory = _ => 60,
    };
    public Option<int> Concurrency { get; } = new("--activity-concurrency") { Description = "Activities the embedded engine runs at once", DefaultValueFactory = _ => 2 };
    public Option<double> PromotionMargin { get; } = new("--promotion-margin") { Description = "Balanced-accuracy gain a challenger needs over the champion", DefaultValueFactory = _ => ExecutionDefaults.PromotionMargin };
    public Option<string> Promote { get; } = new("--promote")
    {
        Description = "Head the run exports and puts forward as challenger: best (best balanced accuracy on validation) | " + string.Join(" | ", HeadMethods.Keys),
        DefaultValueFactory = _ => ExecutionDefaults.Promote,
    };

    public IEnumerable<Option> All => new Option[]
    {
        Dataset, DataDir, ImbalanceFactor, Profile, MaxPerClass, ImageSize, Channels, ValFraction, Model, Epochs, BatchSize, LearningRate,
        WeightDecay, WarmupEpochs, Schedule, EpochsPerActivity, Device, Threads, Seed, Output, TauS, TauG, HeadRatio, Na, Nf, Nt,
        FineTuneIterations, FineTuneLearningRate, CrtReinitLearningRate, LearningRateGrid, Views, ConfusingHeadOnly, StoreMapsAsHalf, HeadSampling, TailSampling, MatchFusedNorm, RejectAmbiguousFused,
        RunId, Mode,
        ModelName, ExtractShards, FuseActivities, Engine, EngineConnection, TaskHub, EngineLockSeconds, Concurrency, PromotionMargin, Promote,
    };

    /// <summary>Builds the orchestration input; throws <see cref="ArgumentException"/> naming a bad option.</summary>
    public RunRequest ToRequest(ParseResult parse, string runId)
    {
        string mode = parse.GetValue(Mode)!;
        var runMode = mode switch
        {
            "full" => RunMode.Full,
            "rebalance" => RunMode.Rebalance,
            _ => throw new ArgumentException($"--mode must be full or rebalance, not '{mode}'."),
        };
        string profile = parse.GetValue(Profile)!;
        if (profile is not ("exp" or "step")) throw new ArgumentException($"--profile must be exp or step, not '{profile}'.");
        string dataset = parse.GetValue(Dataset)!;
        string architecture = parse.GetValue(Model)!;
        string modelName = parse.GetValue(ModelName) ?? $"{dataset}-{architecture}";
        if (runMode == RunMode.Rebalance && parse.GetValue(ModelName) is null)
            throw new ArgumentException("--mode rebalance needs --model-name (the registered model to rebalance).");

        var training = TrainingDefaults with
        {
            Epochs = parse.GetValue(Epochs),
            BatchSize = parse.GetValue(BatchSize),
            LearningRate = parse.GetValue(LearningRate),
            WeightDecay = parse.GetValue(WeightDecay),
            WarmupEpochs = parse.GetValue(WarmupEpochs) ?? Math.Min(TrainingDefaults.WarmupEpochs, Math.Max(0, parse.GetValue(Epochs) - 1)),
            Schedule = ParseSchedule(parse.GetValue(Schedule)!),
        };
        var fsa = FsaDefaults with
        {
            TauS = parse.GetValue(TauS),
            TauG = parse.GetValue(TauG),
            HeadRatio = parse.GetValue(HeadRatio),
            Na = parse.GetValue(Na),
            Nf = parse.GetValue(Nf),
            Nt = parse.GetValue(Nt),
            FineTuneIterations = parse.GetValue(FineTuneIterations),
            FineTuneLearningRate = parse.GetValue(FineTuneLearningRate),
            CrtReinitLearningRate = parse.GetValue(CrtReinitLearningRate),
            LearningRateGrid = parse.GetValue(LearningRateGrid)!,
            Views = parse.GetValue(Views),
            ConfusingHeadOnly = parse.GetValue(ConfusingHeadOnly),
            StoreMapsAsHalf = parse.GetValue(StoreMapsAsHalf),
            HeadSampling = ParseGroupSampling("--head-sampling", parse.GetValue(HeadSampling)!),
            TailSampling = ParseGroupSampling("--tail-sampling", parse.GetValue(TailSampling)!),
            MatchFusedNorm = parse.GetValue(MatchFusedNorm),
            RejectAmbiguousFused = parse.GetValue(RejectAmbiguousFused),
        };
        var execution = ExecutionDefaults with
        {
            Device = parse.GetValue(Device)!,
            Threads = parse.GetValue(Threads),
            Seed = parse.GetValue(Seed),
            ExtractShards = parse.GetValue(ExtractShards),
            FuseActivities = parse.GetValue(FuseActivities),
            PromotionMargin = parse.GetValue(PromotionMargin),
            EpochsPerActivity = parse.GetValue(EpochsPerActivity),
            Promote = parse.GetValue(Promote)!,
        };
        var data = new DatasetReference(
            Kind: dataset,
            DataDir: parse.GetValue(DataDir),
            ImbalanceFactor: parse.GetValue(ImbalanceFactor),
            Profile: profile,
            MaxPerClass: parse.GetValue(MaxPerClass),
            ImageSize: parse.GetValue(ImageSize),
            Channels: parse.GetValue(Channels),
            ValFraction: parse.GetValue(ValFraction));
        var request = new RunRequest(runId, data, modelName, architecture, runMode, training, fsa, execution);
        var problems = RunRequestValidation.Problems(request);
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems.Select(Describe)));
        return request;
    }

    /// <summary>A request problem in the CLI's words: the flag that sets the field, else the field itself.</summary>
    public string Describe(RequestProblem problem) =>
        (FlagOf.TryGetValue(problem.Field, out var option) ? option.Name : problem.Field) + " " + problem.Message;

    /// <summary>The one table from run-request fields to the options that set them.</summary>
    private IReadOnlyDictionary<string, Option> FlagOf => new Dictionary<string, Option>(StringComparer.Ordinal)
    {
        ["runId"] = RunId,
        ["modelName"] = ModelName,
        ["architecture"] = Model,
        ["dataset.kind"] = Dataset,
        ["dataset.dataDir"] = DataDir,
        ["dataset.imbalanceFactor"] = ImbalanceFactor,
        ["dataset.profile"] = Profile,
        ["dataset.maxPerClass"] = MaxPerClass,
        ["dataset.imageSize"] = ImageSize,
        ["dataset.channels"] = Channels,
        ["dataset.valFraction"] = ValFraction,
        ["training.epochs"] = Epochs,
        ["training.batchSize"] = BatchSize,
        ["training.learningRate"] = LearningRate,
        ["training.weightDecay"] = WeightDecay,
        ["training.warmupEpochs"] = WarmupEpochs,
        ["training.schedule"] = Schedule,
        ["execution.epochsPerActivity"] = EpochsPerActivity,
        ["execution.device"] = Device,
        ["execution.threads"] = Threads,
        ["execution.seed"] = Seed,
        ["execution.extractShards"] = ExtractShards,
        ["execution.fuseActivities"] = FuseActivities,
        ["execution.promotionMargin"] = PromotionMargin,
        ["execution.promote"] = Promote,
        ["fsa.tauS"] = TauS,
        ["fsa.tauG"] = TauG,
        ["fsa.headRatio"] = HeadRatio,
        ["fsa.na"] = Na,
        ["fsa.nf"] = Nf,
        ["fsa.nt"] = Nt,
        ["fsa.fineTuneIterations"] = FineTuneIterations,
        ["fsa.fineTuneLearningRate"] = FineTuneLearningRate,
        ["fsa.crtReinitLearningRate"] = CrtReinitLearningRate,
        ["fsa.learningRateGrid"] = LearningRateGrid,
        ["fsa.views"] = Views,
    };

    /// <summary>"0.001,0.01,0.1" (or the numbers as separate tokens) as numbers; a parse error names the option and the text.</summary>
    private static double[] ParseNumbers(System.CommandLine.Parsing.ArgumentResult result)
    {
        var numbers = new List<double>();
        foreach (var token in result.Tokens)
        foreach (string part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (double.TryParse(part, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value))
                numbers.Add(value);
            else
                result.AddError($"--finetune-lr-grid: '{part}' is not a number.");
        }
        return numbers.ToArray();
    }

    private static string ScheduleName(LearningRateSchedule schedule) => schedule == LearningRateSchedule.Step ? "step" : "cosine";

    private static LearningRateSchedule ParseSchedule(string value) => value switch
    {
        "cosine" => LearningRateSchedule.Cosine,
        "step" => LearningRateSchedule.Step,
        _ => throw new ArgumentException($"--schedule must be cosine or step, not '{value}'."),
    };

    private static GroupSampling ParseGroupSampling(string option, string value) => value switch
    {
        "uniform" => GroupSampling.Uniform,
        "class-balanced" => GroupSampling.ClassBalanced,
        _ => throw new ArgumentException($"{option} must be uniform or class-balanced, got '{value}'."),
    };
}
