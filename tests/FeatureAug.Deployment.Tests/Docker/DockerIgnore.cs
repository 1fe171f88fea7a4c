using System.Text;
using System.Text.RegularExpressions;

namespace FeatureAug.Deployment.Tests.Docker;

/// <summary>
/// The exclusion patterns of a <c>.dockerignore</c> file (Go filepath.Match syntax plus <c>**</c>),
/// enough to tell whether a path of the build context reaches the Docker daemon.
/// </summary>
public sealed class DockerIgnore
{
    private readonly IReadOnlyList<(string Pattern, Regex Matcher)> _patterns;

    private DockerIgnore(IReadOnlyList<(string, Regex)> patterns) => _patterns = patterns;

    /// <summary>The patterns as written, without comments and blank lines.</summary>
    public IEnumerable<string> Patterns => _patterns.Select(pattern => pattern.Pattern);

    /// <summary>Parses <c>.dockerignore</c> text.</summary>
    /// <exception cref="FormatException">A pattern uses <c>!</c> re-inclusion, which this reader does not model.</exception>
    public static DockerIgnore Parse(string text, string sourceName)
    {
        var patterns = new List<(string, Regex)>();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (int index = 0; index < lines.Length; index++)
        {
            string line = lines[index].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            if (line.StartsWith('!'))
            {
                throw new FormatException($"{sourceName}:{index + 1}: re-inclusion ('{line}') is not supported by this reader.");
            }
            patterns.Add((line, ToRegex(line.TrimStart('/').TrimEnd('/'))));
        }
        return new DockerIgnore(patterns);
    }

    /// <summary>Whether a context-relative path (forward slashes) is excluded, directly or through a parent folder.</summary>
    public bool IsExcluded(string relativePath)
    {
        string path = relativePath.Replace('\\', '/').TrimStart('.', '/').TrimEnd('/');
        var prefixes = new List<string>();
        var parts = path.Split('/');
        for (int length = 1; length <= parts.Length; length++)
        {
            prefixes.Add(string.Join('/', parts.Take(length)));
        }
        return _patterns.Any(pattern => prefixes.Any(prefix => pattern.Matcher.IsMatch(prefix)));
    }

    private static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (int index = 0; index < pattern.Length; index++)
        {
            char character = pattern[index];
            if (character == '*' && index + 1 < pattern.Length && pattern[index + 1] == '*')
            {
                bool followedBySlash = index + 2 < pattern.Length && pattern[index + 2] == '/';
                regex.Append(followedBySlash ? "(?:.*/)?" : ".*");
                index += followedBySlash ? 2 : 1;
            }
            else if (character == '*')
            {
                regex.Append("[^/]*");
            }
            else if (character == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(Regex.Escape(character.ToString()));
            }
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
