using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Tests.Storage;

/// <summary>The run layout is the one in docs/storage-layout.md, path for path.</summary>
public sealed class RunLayoutTests
{
    [Fact]
    public void EveryPathIsTheDocumentedOne()
    {
        var layout = new RunLayout("r1");
        Assert.Equal("r1", layout.RunId);
        Assert.Equal("runs/r1", layout.Root);
        Assert.Equal("runs/r1/dataset.json", layout.DatasetSummary);
        Assert.Equal("runs/r1/checkpoints", layout.Checkpoints);
        Assert.Equal("runs/r1/checkpoints/epoch-0012.json", layout.CheckpointManifest(12));
        Assert.Equal("runs/r1/checkpoints/epoch-0012.model.safetensors", layout.CheckpointFile("epoch-0012.model.safetensors"));
        Assert.Equal("runs/r1/features", layout.Features);
        Assert.Equal("runs/r1/features/part-0001.json", layout.ExtractPart(1));
        Assert.Equal("runs/r1/features/plan.json", layout.Plan);
        Assert.Equal("runs/r1/features/plan-inputs.json", layout.PlanInputs);
        Assert.Equal("runs/r1/fused", layout.Fused);
        Assert.Equal("runs/r1/fused/class-0007.safetensors", layout.FusionBank(7));
        Assert.Equal("runs/r1/fused/class-0007.json", layout.FusionResult(7));
        Assert.Equal("runs/r1/heads/fsa.safetensors", layout.Head("fsa"));
        Assert.Equal("runs/r1/heads/crt.json", layout.HeadResult("crt"));
        Assert.Equal("runs/r1/model/model.safetensors", layout.Model);
        Assert.Equal("runs/r1/reports", layout.Reports);
        Assert.Equal("runs/r1/reports/report.json", layout.ReportJson);
        Assert.Equal("runs/r1/reports/report.md", layout.ReportMarkdown);
        Assert.Equal("runs/r1/reports/evaluation.json", layout.Evaluation);
        Assert.Equal("runs/r1/reports/promotion.json", layout.Promotion);
        Assert.Equal("runs/r1/status.json", layout.Status);
        Assert.Equal("runs/r1/progress.json", layout.Progress);
        Assert.Equal("runs/r1/result.json", layout.Result);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../r1")]
    [InlineData("a/b")]
    public void ABadRunIdIsRefusedWhenTheLayoutIsMade(string runId) =>
        Assert.Throws<ArgumentException>(() => new RunLayout(runId));
}
