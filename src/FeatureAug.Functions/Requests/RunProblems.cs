namespace FeatureAug.Functions.Requests;

/// <summary>
/// Files the messages of <see cref="RunRequestValidation.Problems"/> under the field each one names,
/// so a caller can report them per field. Each message starts with its field ("training.epochs must
/// ...", "dataset.kind: ...", "fsa: TauS (--tau-s) must ...") or is an identifier check
/// ("Invalid runId '...': ..."); anything else is filed under the document ("").
/// </summary>
public static class RunProblems
{
    /// <summary>
    /// Adds every problem to <paramref name="errors"/> under <paramref name="mapField"/>(field), with
    /// the message unchanged except for .NET's trailing " (Parameter '...')".
    /// </summary>
    public static void AddTo(FieldErrors errors, IEnumerable<string> problems, Func<string, string> mapField)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(mapField);
        foreach (string problem in problems)
        {
            string message = StripParameterSuffix(problem);
            errors.Add(mapField(FieldOf(message)), message);
        }
    }

    /// <summary>The field a validation message names, in the request's own terms ("fsa.tauS", "runId"), or "" when it names none.</summary>
    public static string FieldOf(string problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        const string invalid = "Invalid ";
        if (problem.StartsWith(invalid, StringComparison.Ordinal))
        {
            // ArtifactPath.ValidateIdentifier(value, field): "Invalid <field> '<value>': <rule>."
            int quote = problem.IndexOf(" '", invalid.Length, StringComparison.Ordinal);
            string candidate = quote > 0 ? problem[invalid.Length..quote] : "";
            return IsFieldPath(candidate) ? candidate : "";
        }

        int end = 0;
        while (end < problem.Length && (char.IsAsciiLetterOrDigit(problem[end]) || problem[end] == '.'))
            end++;
        string field = problem[..end];
        if (!IsFieldPath(field) || end >= problem.Length || (problem[end] != ' ' && problem[end] != ':'))
            return "";
        if (field == "fsa" && problem.Length > end + 2 && problem[end] == ':')
        {
            // "fsa: TauS (--tau-s) must ...": the option is the property name, PascalCase.
            int start = end + 2, stop = start;
            while (stop < problem.Length && char.IsAsciiLetterOrDigit(problem[stop]))
                stop++;
            if (stop > start && char.IsAsciiLetterUpper(problem[start]))
                return "fsa." + char.ToLowerInvariant(problem[start]) + problem[(start + 1)..stop];
        }
        return field;
    }

    private static bool IsFieldPath(string candidate) =>
        candidate.Length > 0 && char.IsAsciiLetterLower(candidate[0])
        && candidate.All(c => char.IsAsciiLetterOrDigit(c) || c == '.')
        && !candidate.EndsWith('.');

    private static string StripParameterSuffix(string message)
    {
        int suffix = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return suffix > 0 && message.EndsWith("')", StringComparison.Ordinal) ? message[..suffix] : message;
    }
}
