namespace FeatureAug.Deployment.Tests.Docker;

/// <summary>
/// One <c>dotnet &lt;verb&gt;</c> invocation found in a shell command (a Dockerfile <c>RUN</c> or a
/// script line), split into its project argument, options and MSBuild properties.
/// </summary>
public sealed record DotnetCommandLine(
    string Verb,
    IReadOnlyList<string> Positional,
    IReadOnlyDictionary<string, string> Options,
    IReadOnlyDictionary<string, string> Properties)
{
    // Options of restore/publish that take a value; the others are switches.
    private static readonly HashSet<string> OptionsWithValue = new(StringComparer.Ordinal)
    {
        "-c", "--configuration", "-r", "--runtime", "-o", "--output", "-f", "--framework",
        "--self-contained", "-v", "--verbosity", "--source", "-s",
    };

    /// <summary>Every <c>dotnet</c> invocation in shell text, split on newlines, <c>&amp;&amp;</c>, <c>||</c> and <c>;</c>.</summary>
    public static IReadOnlyList<DotnetCommandLine> FindAll(string shellCommand)
    {
        var commands = new List<DotnetCommandLine>();
        foreach (string segment in shellCommand.Split(new[] { "\n", "&&", "||", ";" }, StringSplitOptions.None))
        {
            var words = DockerfileDocument.SplitWords(segment.Trim()).Select(Unquote).ToList();
            if (words.Count >= 2 && words[0] == "dotnet")
            {
                commands.Add(Parse(words[1], words.Skip(2).ToList()));
            }
        }
        return commands;
    }

    private static DotnetCommandLine Parse(string verb, IReadOnlyList<string> arguments)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int index = 0; index < arguments.Count; index++)
        {
            string argument = arguments[index];
            if (argument.StartsWith("-p:", StringComparison.Ordinal) || argument.StartsWith("/p:", StringComparison.Ordinal))
            {
                string assignment = argument[3..];
                int equals = assignment.IndexOf('=');
                if (equals <= 0)
                {
                    throw new FormatException($"'{argument}' is not a -p:Name=Value property.");
                }
                properties[assignment[..equals]] = assignment[(equals + 1)..];
            }
            else if (OptionsWithValue.Contains(argument))
            {
                if (index + 1 >= arguments.Count)
                {
                    throw new FormatException($"dotnet {verb}: option {argument} has no value.");
                }
                options[argument] = arguments[++index];
            }
            else if (argument.StartsWith('-'))
            {
                options[argument] = "";
            }
            else
            {
                positional.Add(argument);
            }
        }
        return new DotnetCommandLine(verb, positional, options, properties);
    }

    private static string Unquote(string word) =>
        word.Length >= 2 && word[0] == '"' && word[^1] == '"' ? word[1..^1] : word;
}
