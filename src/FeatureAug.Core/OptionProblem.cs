namespace FeatureAug.Core;

/// <summary>
/// One violated rule of an options record: the camelCase property it concerns (its JSON member name, e.g. "tauS",
/// "epochs") and what is wrong in words that name neither a CLI flag nor a property ("must lie in (0, 1), got 1.5."),
/// so the CLI can name its flag and the HTTP API its JSON path.
/// </summary>
public sealed record OptionProblem(string Field, string Message)
{
    /// <summary>
    /// The problems as one exception for .NET callers, one "Type.Property: message" line each (the C# member the caller
    /// set, e.g. "TrainingOptions.Epochs: must be at least 1, got 0.").
    /// </summary>
    public static ArgumentException ToException(string typeName, IReadOnlyList<OptionProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return new ArgumentException(string.Join(Environment.NewLine,
            problems.Select(p => $"{typeName}.{char.ToUpperInvariant(p.Field[0])}{p.Field[1..]}: {p.Message}")));
    }
}
