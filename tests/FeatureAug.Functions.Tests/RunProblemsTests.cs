using FeatureAug.Core.Fsa;
using FeatureAug.Core.Training;
using FeatureAug.Functions.Api;
using FeatureAug.Workflow;
using FeatureAug.Workflow.Requests;

namespace FeatureAug.Functions.Tests;

/// <summary>Every message of RunRequestValidation is filed under the body field it concerns.</summary>
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

        RunProblems.AddTo(errors, RunRequestValidation.Problems(request), RunsApi.BodyFieldOf);

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
    }

    [Theory]
    [InlineData("training.epochs must be at least 1, got 0.", "training.epochs")]
    [InlineData("dataset.kind: Unknown dataset 'x'.", "dataset.kind")]
    [InlineData("fsa: TauS (--tau-s) must lie in (0, 1), got 2.", "fsa.tauS")]
    [InlineData("Invalid runId 'a/b': it contains a path separator '/' at position 1.", "runId")]
    [InlineData("Something else went wrong.", "")]
    public void FieldOf_ReadsTheLeadingFieldPath(string message, string field) =>
        Assert.Equal(field, RunProblems.FieldOf(message));
}
