namespace FeatureAug.Core.Data;

/// <summary>
/// A data file or folder that cannot be used: missing, truncated, corrupt, or inconsistent.
/// The message is "<c>FilePath</c>: <c>Problem</c>" so one line tells the user what to fix.
/// </summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file, folder or URL at fault.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; }
}
