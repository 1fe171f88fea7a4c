using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Functions.Api;
using FeatureAug.Functions.Requests;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Inputs;

namespace FeatureAug.Functions.Tests;

/// <summary>Every problem RunRequestValidation finds is filed under the body field it concerns, in the API's words.</summary>
public sealed class RunProblemsTests
{
    [Fact]
    public void EachValidationMessage_MapsToItsField()
    {
        var request = new RunRequest("a/b", new DatasetReference(Kind: "nope", StoreName: "..", ImbalanceFactor: 0, Profile: "flat",
                MaxPerClass: 0, ImageSize: 4, Channels: 2),
            "bad name", "resnet999", RunMode.Full,
            new TrainingOptions
            {
                Epochs = 0, BatchSize = 0, LearningRate = -1, Momentum = 1, WeightDecay = -1, WarmupEpochs = -1,
                Schedule = (LearningRateSchedule)99, Loss = (TrainingLoss)99, CropPadding = -1,
            },
            new FsaOptions { TauS = 0.1, TauG = 0.5, Na = 0 },
            new ExecutionSettings(Device: "tpu", Threads: -1, ExtractShards: 0, PromotionMargin: 2, FuseActivities: 0, EpochsPerActivity: 0));
        var errors = new FieldErrors();

        foreach (var problem in RunRequestValidation.Problems(request))
            errors.Add(RunsApi.BodyFieldOf(problem.Field), problem.ToString());

        var fields = errors.ToDictionary();
        string[] expected =
        [
            "runId", "modelName", "architecture", "dataset.storeName", "dataset.kind", "dataset.imbalanceFactor", "dataset.profile",
            "dataset.maxPerClass", "dataset.imageSize", "dataset.channels",
            "options.training.epochs", "options.training.batchSize", "options.training.learningRate", "options.training.momentum",
            "options.training.weightDecay", "options.training.warmupEpochs", "options.training.schedule", "options.training.loss",
            "options.training.cropPadding", "options.execution.epochsPerActivity",
            "options.execution.device", "options.execution.threads", "options.execution.extractShards", "options.execution.fuseActivities",
            "options.execution.promotionMargin",
            "options.fsa.tauG", "options.fsa.na",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), fields.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(fields.Values.SelectMany(m => m), m => m.Contains("(Parameter"));
        // An HTTP caller reads field names, never the CLI's flags.
        Assert.DoesNotContain(fields.Values.SelectMany(m => m), m => m.Contains("--", StringComparison.Ordinal));
    }

    [Fact]
    public void EachProblemNamesItsFieldApartFromTheMessage()
    {
        var request = new RunRequest("r1", new DatasetReference(), "m", "resnet8", RunMode.Full,
            new TrainingOptions { Epochs = 0 }, new FsaOptions { TauS = 2 }, new ExecutionSettings());

        var problems = RunRequestValidation.Problems(request);

        Assert.Equal(new[] { "training.epochs", "training.warmupEpochs", "fsa.tauS" }, problems.Select(p => p.Field));
        Assert.Equal("must be at least 1, got 0.", problems[0].Message);
        Assert.Equal("fsa.tauS must lie in (0, 1), got 2.", problems[2].ToString());
    }
}
