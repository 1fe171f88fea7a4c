namespace FeatureAug.Functions.Requests;

/// <summary>
/// Problems with a request or document, keyed by the field they concern ("dataset.imbalanceFactor",
/// "paths[2]", "" for the document as a whole), in the order they were found. Becomes the
/// <c>errors</c> member of an RFC 7807 validation problem.
/// </summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
    private readonly List<string> _order = new();

    /// <summary>True when no problem was recorded.</summary>
    public bool IsEmpty => _order.Count == 0;

    /// <summary>Number of fields with at least one problem.</summary>
    public int FieldCount => _order.Count;

    /// <summary>Records <paramref name="message"/> against <paramref name="field"/>.</summary>
    public void Add(string field, string message)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        if (!_errors.TryGetValue(field, out var messages))
        {
            messages = new List<string>();
            _errors.Add(field, messages);
            _order.Add(field);
        }
        if (!messages.Contains(message, StringComparer.Ordinal))
            messages.Add(message);
    }

    /// <summary>Records every problem of <paramref name="other"/>.</summary>
    public void AddRange(FieldErrors other)
    {
        foreach (var (field, messages) in other.ToDictionary())
            foreach (string message in messages)
                Add(field, message);
    }

    /// <summary>Whether <paramref name="field"/> has a problem.</summary>
    public bool Contains(string field) => _errors.ContainsKey(field);

    /// <summary>Field to messages, fields in the order they were first reported.</summary>
    public IReadOnlyDictionary<string, string[]> ToDictionary()
    {
        // A fresh insertion-ordered dictionary: JSON serialization keeps this order.
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string field in _order)
            result.Add(field, _errors[field].ToArray());
        return result;
    }

    /// <summary>One line per problem, "field: message", for logs and exception messages.</summary>
    public override string ToString() =>
        string.Join(Environment.NewLine, _order.SelectMany(field =>
            _errors[field].Select(message => field.Length == 0 ? message : $"{field}: {message}")));
}
