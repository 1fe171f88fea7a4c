namespace FeatureAug.Deployment.Tests.Docker;

/// <summary>One Dockerfile instruction after comment removal and line-continuation joining.</summary>
/// <param name="Keyword">Upper-case instruction keyword, e.g. <c>RUN</c>.</param>
/// <param name="Arguments">Everything after the keyword, continuation lines joined with single spaces.</param>
/// <param name="LineNumber">1-based line on which the instruction starts.</param>
public sealed record DockerInstruction(string Keyword, string Arguments, int LineNumber);

/// <summary>A build stage: its <c>FROM</c> and the instructions up to the next <c>FROM</c>.</summary>
public sealed record DockerStage(ContainerImageReference BaseImage, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    /// <summary>Instructions of one kind, in file order.</summary>
    public IEnumerable<DockerInstruction> All(string keyword) =>
        Instructions.Where(instruction => instruction.Keyword == keyword.ToUpperInvariant());

    /// <summary><c>ARG</c> declarations of this stage: name to default value (null when none).</summary>
    public IReadOnlyDictionary<string, string?> BuildArguments =>
        All("ARG").Select(instruction => DockerfileDocument.ParseArg(instruction))
                  .ToDictionary(pair => pair.Key, pair => pair.Value);

    /// <summary>Environment variables set by this stage's <c>ENV</c> instructions (later ones win).</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var instruction in All("ENV"))
            {
                foreach (var (name, value) in DockerfileDocument.ParseEnv(instruction))
                {
                    variables[name] = value;
                }
            }
            return variables;
        }
    }

    /// <summary>The user the stage's image runs as: the last <c>USER</c>, or null when the stage sets none.</summary>
    public string? FinalUser => All("USER").Select(instruction => instruction.Arguments.Trim()).LastOrDefault();
}

/// <summary>
/// A small Dockerfile reader for checking the repository's image definition without Docker:
/// it handles comments, parser directives, backslash line continuations, global <c>ARG</c>s,
/// stages (<c>FROM image [AS name]</c>), and the <c>ENV</c> and <c>ARG</c> argument forms.
/// </summary>
public sealed class DockerfileDocument
{
    private DockerfileDocument(IReadOnlyList<DockerInstruction> globalArguments, IReadOnlyList<DockerStage> stages)
    {
        GlobalArguments = globalArguments;
        Stages = stages;
    }

    /// <summary><c>ARG</c> instructions before the first <c>FROM</c>.</summary>
    public IReadOnlyList<DockerInstruction> GlobalArguments { get; }

    /// <summary>Build stages in file order; the last one is the image that is produced.</summary>
    public IReadOnlyList<DockerStage> Stages { get; }

    /// <summary>The stage with the given <c>AS</c> name.</summary>
    /// <exception cref="KeyNotFoundException">No stage has that name.</exception>
    public DockerStage Stage(string name) =>
        Stages.FirstOrDefault(stage => string.Equals(stage.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"The Dockerfile has no stage named '{name}'; stages: {string.Join(", ", Stages.Select(stage => stage.Name ?? "(unnamed)"))}.");

    /// <summary>Reads a Dockerfile from disk.</summary>
    public static DockerfileDocument Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses Dockerfile text.</summary>
    /// <param name="text">The Dockerfile content.</param>
    /// <param name="sourceName">File name used in error messages.</param>
    /// <exception cref="FormatException">The text is not a Dockerfile this reader understands.</exception>
    public static DockerfileDocument Parse(string text, string sourceName)
    {
        var instructions = ReadInstructions(text, sourceName);
        var globalArguments = new List<DockerInstruction>();
        var stages = new List<DockerStage>();
        ContainerImageReference? currentImage = null;
        string? currentName = null;
        var currentInstructions = new List<DockerInstruction>();

        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                if (currentImage is not null)
                {
                    stages.Add(new DockerStage(currentImage, currentName, currentInstructions));
                }
                (currentImage, currentName) = ParseFrom(instruction, sourceName);
                currentInstructions = new List<DockerInstruction>();
            }
            else if (currentImage is null)
            {
                if (instruction.Keyword != "ARG")
                {
                    throw new FormatException($"{sourceName}:{instruction.LineNumber}: {instruction.Keyword} appears before the first FROM; only ARG may.");
                }
                globalArguments.Add(instruction);
            }
            else
            {
                currentInstructions.Add(instruction);
            }
        }

        if (currentImage is null)
        {
            throw new FormatException($"{sourceName}: no FROM instruction, so there is no build stage.");
        }
        stages.Add(new DockerStage(currentImage, currentName, currentInstructions));
        return new DockerfileDocument(globalArguments, stages);
    }

    private static List<DockerInstruction> ReadInstructions(string text, string sourceName)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var instructions = new List<DockerInstruction>();
        var pending = new List<string>();
        int startLine = 0;

        for (int index = 0; index < lines.Length; index++)
        {
            string line = lines[index].TrimEnd();
            string trimmed = line.TrimStart();
            // Comment lines (parser directives included) are dropped, also inside a continuation.
            if (trimmed.StartsWith('#'))
            {
                continue;
            }
            // Blank lines separate instructions; inside a continuation Docker skips them too.
            if (trimmed.Length == 0)
            {
                continue;
            }
            if (pending.Count == 0)
            {
                startLine = index + 1;
            }

            bool continues = trimmed.EndsWith('\\');
            string content = continues ? trimmed[..^1].Trim() : trimmed.Trim();
            if (content.Length > 0)
            {
                pending.Add(content);
            }
            if (!continues)
            {
                instructions.Add(ToInstruction(string.Join(' ', pending), startLine, sourceName));
                pending.Clear();
            }
        }

        if (pending.Count > 0)
        {
            throw new FormatException($"{sourceName}:{startLine}: the instruction ends with a line continuation and no following line.");
        }
        return instructions;
    }

    private static DockerInstruction ToInstruction(string logicalLine, int lineNumber, string sourceName)
    {
        int split = logicalLine.IndexOfAny(new[] { ' ', '\t' });
        string keyword = (split < 0 ? logicalLine : logicalLine[..split]).ToUpperInvariant();
        string arguments = split < 0 ? "" : logicalLine[(split + 1)..].Trim();
        if (!keyword.All(char.IsAsciiLetter))
        {
            throw new FormatException($"{sourceName}:{lineNumber}: '{keyword}' is not a Dockerfile instruction.");
        }
        return new DockerInstruction(keyword, arguments, lineNumber);
    }

    private static (ContainerImageReference Image, string? Name) ParseFrom(DockerInstruction instruction, string sourceName)
    {
        var words = SplitWords(instruction.Arguments).Where(word => !word.StartsWith("--", StringComparison.Ordinal)).ToList();
        if (words.Count == 1)
        {
            return (ContainerImageReference.Parse(words[0]), null);
        }
        if (words.Count == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase))
        {
            return (ContainerImageReference.Parse(words[0]), words[2]);
        }
        throw new FormatException($"{sourceName}:{instruction.LineNumber}: FROM expects 'image [AS name]', got '{instruction.Arguments}'.");
    }

    internal static KeyValuePair<string, string?> ParseArg(DockerInstruction instruction)
    {
        string declaration = instruction.Arguments.Trim();
        int equals = declaration.IndexOf('=');
        return equals < 0
            ? new KeyValuePair<string, string?>(declaration, null)
            : new KeyValuePair<string, string?>(declaration[..equals], Unquote(declaration[(equals + 1)..]));
    }

    internal static IEnumerable<(string Name, string Value)> ParseEnv(DockerInstruction instruction)
    {
        var words = SplitWords(instruction.Arguments);
        if (words.Count > 0 && !words[0].Contains('='))
        {
            // Legacy form: ENV NAME value with spaces
            string value = instruction.Arguments.Trim()[words[0].Length..].Trim();
            yield return (words[0], Unquote(value));
            yield break;
        }
        foreach (string word in words)
        {
            int equals = word.IndexOf('=');
            if (equals <= 0)
            {
                throw new FormatException($"line {instruction.LineNumber}: ENV entry '{word}' is not NAME=value.");
            }
            yield return (word[..equals], Unquote(word[(equals + 1)..]));
        }
    }

    /// <summary>Splits on whitespace outside double quotes, keeping the quotes in the words.</summary>
    internal static List<string> SplitWords(string text)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        foreach (char character in text)
        {
            if (character == '"')
            {
                quoted = !quoted;
            }
            if (char.IsWhiteSpace(character) && !quoted)
            {
                if (current.Length > 0)
                {
                    words.Add(current.ToString());
                    current.Clear();
                }
                continue;
            }
            current.Append(character);
        }
        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }
        return words;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
}
