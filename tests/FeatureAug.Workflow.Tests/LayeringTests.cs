using System.Text.RegularExpressions;
using FeatureAug.Testing;

namespace FeatureAug.Workflow.Tests;

/// <summary>The architecture's rules, checked on the code itself.</summary>
public sealed partial class LayeringTests
{
    private static readonly string WorkflowSources = Path.Combine(AzuriteFixture.FindRepositoryRoot(), "src", "FeatureAug.Workflow");

    /// <summary>Code lines (comments dropped) of every Workflow source file.</summary>
    private static IEnumerable<(string File, string Line)> CodeLines() =>
        Directory.EnumerateFiles(WorkflowSources, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select(line => (File: Path.GetRelativePath(WorkflowSources, f), Line: line.Split("//")[0])));

    [Fact]
    public void TheWorkflowHoldsNoTensorCode()
    {
        var offending = CodeLines().Where(l => TensorCode().IsMatch(l.Line)).Select(l => $"{l.File}: {l.Line.Trim()}").ToList();
        Assert.True(offending.Count == 0, "Tensor code belongs in Core:\n" + string.Join("\n", offending));
    }

    [Fact]
    public void TheWorkflowsLowerLayersNeverUseTheLayersAboveThem()
    {
        string[] lower = ["Storage", "Inputs", "Models"];
        var offending = Directory.EnumerateFiles(WorkflowSources, "*.cs", SearchOption.AllDirectories)
            .Where(f => lower.Any(folder => Path.GetRelativePath(WorkflowSources, f).StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            .Where(f => File.ReadLines(f).Any(line => line == "using FeatureAug.Workflow;")
                        || (Path.GetRelativePath(WorkflowSources, f).StartsWith("Storage", StringComparison.Ordinal)
                            && File.ReadLines(f).Any(line => line.StartsWith("using FeatureAug.Workflow.", StringComparison.Ordinal))))
            .ToList();
        Assert.True(offending.Count == 0, "A lower layer imports a higher one: " + string.Join(", ", offending));
    }

    [Fact]
    public void TheWorkflowKnowsNoHost() =>
        Assert.DoesNotContain(typeof(RunRequest).Assembly.GetReferencedAssemblies(), name =>
            name.Name!.StartsWith("FeatureAug.LocalEngine", StringComparison.Ordinal) || name.Name.StartsWith("FeatureAug.Functions", StringComparison.Ordinal)
            || name.Name.StartsWith("Microsoft.DurableTask.InProcessTestHost", StringComparison.Ordinal));

    [GeneratedRegex(@"using\s+(static\s+)?TorchSharp|\btorch\.|\bTensor\b")]
    private static partial Regex TensorCode();
}
