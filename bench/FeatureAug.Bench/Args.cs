using System.Globalization;

namespace FeatureAug.Bench;

/// <summary>--name value pairs and bare --flags; lists are comma-separated.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string> _values = new();
    private readonly HashSet<string> _flags = new();

    public Args(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{list[i]}'.");
            string name = list[i][2..];
            if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) _values[name] = list[++i];
            else _flags.Add(name);
        }
    }

    public string String(string name, string fallback) => _values.GetValueOrDefault(name, fallback);
    public bool Flag(string name) => _flags.Contains(name);
    public int Int(string name, int fallback) => _values.TryGetValue(name, out var v) ? Parse(name, v, int.Parse) : fallback;
    public double Double(string name, double fallback) => _values.TryGetValue(name, out var v) ? Parse(name, v, double.Parse) : fallback;
    public int[] Ints(string name, int[] fallback) => _values.TryGetValue(name, out var v) ? v.Split(',').Select(x => Parse(name, x, int.Parse)).ToArray() : fallback;
    public double[] Doubles(string name, double[] fallback) => _values.TryGetValue(name, out var v) ? v.Split(',').Select(x => Parse(name, x, double.Parse)).ToArray() : fallback;

    private static T Parse<T>(string name, string value, Func<string, IFormatProvider, T> parse)
    {
        try { return parse(value, CultureInfo.InvariantCulture); }
        catch (FormatException) { throw new ArgumentException($"--{name}: cannot parse '{value}'."); }
    }
}
