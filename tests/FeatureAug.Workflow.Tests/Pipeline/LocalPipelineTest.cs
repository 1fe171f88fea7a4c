using FeatureAug.Testing;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Tests.Pipeline;

/// <summary>A temporary folder with the tiny data set, a local artifact store and the workflow options pointing at them.</summary>
public abstract class LocalPipelineTest : IDisposable
{
    protected LocalPipelineTest(string name)
    {
        Root = Directory.CreateTempSubdirectory("featureaug-" + name).FullName;
        DataDir = TinyDataset.Write(Path.Combine(Root, "data"));
        Options = PipelineHarness.Options(new ArtifactStoreOptions { Kind = ArtifactStoreKind.Local, LocalRoot = Path.Combine(Root, "store") },
            Path.Combine(Root, "work"));
        Store = new LocalArtifactStore(Path.Combine(Root, "store"));
    }

    protected string Root { get; }

    protected string DataDir { get; }

    protected WorkflowServiceOptions Options { get; }

    protected LocalArtifactStore Store { get; }

    public void Dispose()
    {
        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }
}
