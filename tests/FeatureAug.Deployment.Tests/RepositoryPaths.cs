namespace FeatureAug.Deployment.Tests;

/// <summary>Locates files of the repository the tests run in.</summary>
public static class RepositoryPaths
{
    private const string SolutionFileName = "FeatureAugFunctions.sln";

    /// <summary>The repository root: the nearest folder above the test binaries holding the solution file.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>An absolute path under the repository root.</summary>
    public static string Combine(params string[] relativeParts) => Path.Combine(new[] { Root }.Concat(relativeParts).ToArray());

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
            {
                return directory.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No {SolutionFileName} above {AppContext.BaseDirectory}; the tests must run inside the repository.");
    }
}
