using FeatureAug.Core.Fsa;
using FeatureAug.Core.Reporting;
using FeatureAug.Testing;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using TorchSharp.PyBridge;
using Microsoft.DurableTask.Client;

namespace FeatureAug.Workflow.Tests.Pipeline;

/// <summary>
/// Which head a run puts forward: a named method, or best on validation (refused without one); and small data sets
/// that run with the defaults, the adaptations recorded in the report.
/// </summary>
public sealed class PromotionChoiceTests() : LocalPipelineTest("promotion")
{
    private async Task<RunReport> ReportOfAsync(RunResult result)
    {
        await using var stream = await Store.OpenReadAsync(result.ReportPath, default);
        return RunReport.FromJson(await new StreamReader(stream).ReadToEndAsync());
    }

    private static float[] Row(TorchSharp.torch.Tensor tensor) => tensor.contiguous().data<float>().ToArray();

    [Fact]
    public async Task ANamedMethodIsExportedAndPromotedWhateverValidationSays()
    {
        var request = TinyDataset.Request("named-1", DataDir, modelName: "named-model");
        request = request with { Execution = request.Execution with { Promote = HeadMethod.LogitAdjust.Key() } };

        var (instance, _) = await PipelineHarness.RunAsync(Options, request);

        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
        var report = await ReportOfAsync(instance.ReadOutputAs<RunResult>()!);
        Assert.Equal(("logitAdjust", "request"), (report.Candidate!.Method, report.Candidate.ChosenBy));
        var champion = (await new ModelRegistry(Store).GetChampionAsync("named-model", default))!;
        Assert.Equal("logitAdjust", champion.Method);
        Assert.Contains("tau ", champion.Configuration);
        // Logit adjustment was made post hoc and stored like a trained head, tau folded into its bias; the exported
        // model carries exactly that head, so a PyTorch user loading one state dict gets the promoted predictions.
        var layout = new RunLayout("named-1");
        using var head = ClassifierHead.Load(Store.GetFilePath(layout.Head("logitAdjust")));
        var model = Safetensors.LoadStateDict(Store.GetFilePath(layout.Model));
        Assert.Equal(Row(head.Weight), Row(model["fc.weight"]));
        Assert.Equal(Row(head.Bias), Row(model["fc.bias"]));
        foreach (var tensor in model.Values) tensor.Dispose();
    }

    [Fact]
    public void BestWithoutAValidationSplitIsRefusedByName()
    {
        var request = TinyDataset.Request("no-val", DataDir);
        var noValidation = request with { Dataset = request.Dataset with { ValFraction = 0 } };

        var problem = Assert.Single(RunRequestValidation.Problems(noValidation));
        Assert.Equal("execution.promote", problem.Field);
        Assert.Contains("best chooses on the validation split", problem.Message);
        // A named method needs no validation split; a bad name or fraction is refused by field.
        Assert.Empty(RunRequestValidation.Problems(noValidation with { Execution = noValidation.Execution with { Promote = "crt" } }));
        Assert.Contains(RunRequestValidation.Problems(request with { Execution = request.Execution with { Promote = "mse" } }), p => p.Field == "execution.promote");
        Assert.Contains(RunRequestValidation.Problems(request with { Dataset = request.Dataset with { ValFraction = 1 } }), p => p.Field == "dataset.valFraction");
        // With the data: an image folder without val/ and a fraction of 0 has nothing to choose on either.
        Assert.Contains(RunRequestValidation.ProblemsWithData(request, 5, hasValidation: false), p => p.Field == "execution.promote");
        Assert.Empty(RunRequestValidation.ProblemsWithData(request, 5, hasValidation: true));
    }

    [Theory]
    [InlineData(new[] { 60, 20, 8 }, 2)]
    [InlineData(new[] { 50, 12 }, 1)]
    public async Task TwoAndThreeClassDataSetsRunWithTheDefaults(int[] counts, int nf)
    {
        string data = TinyDataset.Write(Path.Combine(Root, $"data-{counts.Length}"), trainCounts: counts);
        var request = TinyDataset.Request($"classes-{counts.Length}", data, modelName: $"small-{counts.Length}");
        // The paper's FSA defaults (N_f, h_r) with a short Phase II.
        request = request with { Fsa = new FsaOptions { Nt = 4, Na = 2, FineTuneIterations = 40 } };

        var (instance, _) = await PipelineHarness.RunAsync(Options, request);

        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed, PipelineHarness.Failure(instance));
        var report = await ReportOfAsync(instance.ReadOutputAs<RunResult>()!);
        Assert.NotEmpty(report.Split.TailClasses);
        Assert.All(report.ConfusingClasses.Values, confusing => Assert.Equal(nf, confusing.Length));
        Assert.Contains(report.Adaptations, a => a.StartsWith($"N_f = {nf}:", StringComparison.Ordinal));
        Assert.Contains($"Adapted to the data: N_f = {nf}", MarkdownReport.Render(report));
    }
}
