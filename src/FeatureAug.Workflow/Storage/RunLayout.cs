using System.Globalization;
using FeatureAug.Core.Training;

namespace FeatureAug.Workflow.Storage;

/// <summary>
/// Where everything of one run lives in the artifact store: the one place that knows the layout documented in
/// docs/storage-layout.md. Every path is below runs/&lt;id&gt;/; the run id is validated once, here.
/// </summary>
public sealed class RunLayout
{
    public RunLayout(string runId)
    {
        Root = ArtifactPath.Run(runId);
        RunId = runId;
    }

    public string RunId { get; }

    /// <summary>runs/&lt;id&gt;.</summary>
    public string Root { get; }

    /// <summary>ValidateDataset's summary: class counts, image shape, normalisation.</summary>
    public string DatasetSummary => At("dataset.json");

    /// <summary>Phase-I checkpoints, one model, optimizer and manifest file per epoch.</summary>
    public string Checkpoints => At("checkpoints");

    /// <summary>The manifest of epoch <paramref name="epoch"/>'s checkpoint: the one a finished chunk points to.</summary>
    public string CheckpointManifest(int epoch) => CheckpointFile(Checkpoint.ManifestFileName(epoch));

    /// <summary>The file <paramref name="fileName"/> of the checkpoints folder (a checkpoint's model or optimizer file).</summary>
    public string CheckpointFile(string fileName) => ArtifactPath.Combine(Checkpoints, fileName);

    /// <summary>Per-class feature shards, the shard manifest, the extraction parts and the plan.</summary>
    public string Features => At("features");

    public string ExtractPart(int shard) => ArtifactPath.Combine(Features, $"part-{shard.ToString("D4", CultureInfo.InvariantCulture)}.json");

    public string Plan => ArtifactPath.Combine(Features, "plan.json");

    /// <summary>Pooled features and labels of the validation split (written by extraction shard 0; absent without validation).</summary>
    public string ValidationFeatures => At("validation-features.safetensors");

    public string PlanInputs => ArtifactPath.Combine(Features, "plan-inputs.json");

    /// <summary>Fusion banks, one per tail class, each with its statistics.</summary>
    public string Fused => At("fused");

    public string FusionBank(int tailClass) => ArtifactPath.Combine(Fused, $"class-{Class(tailClass)}.safetensors");

    public string FusionResult(int tailClass) => ArtifactPath.Combine(Fused, $"class-{Class(tailClass)}.json");

    /// <summary>Phase-II heads as weight/bias safetensors, each with its training result.</summary>
    public string Head(string method) => ArtifactPath.Combine(Root, "heads", $"{method}.safetensors");

    public string HeadResult(string method) => ArtifactPath.Combine(Root, "heads", $"{method}.json");

    /// <summary>The final model: frozen backbone with the exported head.</summary>
    public string Model => ArtifactPath.Combine(Root, "model", "model.safetensors");

    /// <summary>The report, its plots, the evaluation and the promotion decision.</summary>
    public string Reports => At("reports");

    public string ReportJson => ArtifactPath.Combine(Reports, "report.json");

    public string ReportMarkdown => ArtifactPath.Combine(Reports, "report.md");

    public string Evaluation => ArtifactPath.Combine(Reports, "evaluation.json");

    public string Promotion => ArtifactPath.Combine(Reports, "promotion.json");

    /// <summary>The status a local runner records for `featureaug status` from another process.</summary>
    public string Status => At("status.json");

    /// <summary>The newest activity progress (step, loss, images/s).</summary>
    public string Progress => At("progress.json");

    /// <summary>The orchestration's result, once it completed.</summary>
    public string Result => At("result.json");

    private string At(string name) => ArtifactPath.Combine(Root, name);

    private static string Class(int classId) => classId.ToString("D4", CultureInfo.InvariantCulture);
}
