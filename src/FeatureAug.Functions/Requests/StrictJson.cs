using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace FeatureAug.Functions.Requests;

/// <summary>
/// Strict JSON reading for documents people write by hand (HTTP request bodies, dataset manifests):
/// camelCase names matched exactly, unknown members rejected (<see cref="JsonUnmappedMemberHandling.Disallow"/>),
/// required members and constructor parameters enforced, nulls only where the type allows them, no
/// duplicate keys. Unlike a bare <see cref="JsonSerializer.Deserialize{TValue}(string, JsonSerializerOptions?)"/>,
/// which stops at the first problem, every unknown and missing field is reported, each under its own
/// path ("dataset.imbalanceFactor", "options.training.epochs"), so one round trip shows all of them.
/// </summary>
public static class StrictJson
{
    /// <summary>Largest document accepted; manifests and request bodies are a few kilobytes.</summary>
    public const int MaxDocumentBytes = 1024 * 1024;

    private const int MaxDepth = 32;

    /// <summary>The serializer settings that enforce the rules; also used to write documents back.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>
    /// Parses <paramref name="utf8Json"/> as a <typeparamref name="T"/>. Returns null and fills
    /// <paramref name="errors"/> (field paths prefixed with <paramref name="fieldPrefix"/>) when the
    /// document is not valid JSON, has unknown, missing, duplicate or null-where-forbidden fields, or a
    /// value of the wrong type.
    /// </summary>
    public static T? Parse<T>(ReadOnlySpan<byte> utf8Json, FieldErrors errors, string fieldPrefix = "") where T : class
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (utf8Json.Length > MaxDocumentBytes)
        {
            errors.Add(fieldPrefix, $"the document has {utf8Json.Length} bytes; the limit is {MaxDocumentBytes}.");
            return null;
        }
        if (utf8Json.IsEmpty)
        {
            errors.Add(fieldPrefix, "the document is empty; expected a JSON object.");
            return null;
        }

        var typeInfo = Options.GetTypeInfo(typeof(T));
        int before = errors.FieldCount;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = MaxDepth });
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add(fieldPrefix, $"expected a JSON object, got {Describe(document.RootElement.ValueKind)}.");
                return null;
            }
            CheckMembers(document.RootElement, typeInfo, fieldPrefix, errors);
        }
        catch (JsonException exception)
        {
            errors.Add(fieldPrefix, $"not valid JSON: {FirstSentence(exception.Message)} (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}).");
            return null;
        }
        if (errors.FieldCount != before)
            return null;

        try
        {
            var value = JsonSerializer.Deserialize<T>(utf8Json, Options);
            if (value is null)
                errors.Add(fieldPrefix, "expected a JSON object, got null.");
            return value;
        }
        catch (JsonException exception)
        {
            // The member scan passed, so what is left is a value of the wrong type or a forbidden null.
            var (field, expected) = Locate(exception.Path, typeInfo);
            string path = Join(fieldPrefix, field);
            errors.Add(path, expected is null
                ? FirstSentence(exception.Message)
                : $"expected {expected}.");
            return null;
        }
    }

    /// <summary>Serializes with the same naming the parser expects (camelCase, enums as camelCase strings).</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNameCaseInsensitive = false,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectRequiredConstructorParameters = true,
            RespectNullableAnnotations = true,
            AllowDuplicateProperties = false,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            NumberHandling = JsonNumberHandling.Strict,
            MaxDepth = MaxDepth,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Reports unknown, duplicate and missing members of <paramref name="element"/>, recursing into nested objects.</summary>
    private static void CheckMembers(JsonElement element, JsonTypeInfo typeInfo, string prefix, FieldErrors errors)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object)
            return;
        var known = typeInfo.Properties.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in element.EnumerateObject())
        {
            string path = Join(prefix, member.Name);
            if (!seen.Add(member.Name))
            {
                errors.Add(path, "the field appears more than once.");
                continue;
            }
            if (!known.TryGetValue(member.Name, out var property))
            {
                var differentCase = known.Keys.FirstOrDefault(k => string.Equals(k, member.Name, StringComparison.OrdinalIgnoreCase));
                errors.Add(path, differentCase is not null
                    ? $"unknown field; did you mean '{differentCase}'? Names are case-sensitive."
                    : $"unknown field; expected one of: {string.Join(", ", known.Keys)}.");
                continue;
            }
            if (member.Value.ValueKind == JsonValueKind.Object)
                CheckMembers(member.Value, Options.GetTypeInfo(property.PropertyType), path, errors);
        }
        foreach (var property in typeInfo.Properties)
        {
            if (IsRequired(property) && !seen.Contains(property.Name))
                errors.Add(Join(prefix, property.Name), "required field is missing.");
        }
    }

    private static bool IsRequired(JsonPropertyInfo property) =>
        property.IsRequired
        || property.AssociatedParameter is { HasDefaultValue: false, IsMemberInitializer: false };

    /// <summary>Turns an exception path ("$.dataset.imageSize", "$.paths[1]") into a field and a description of the expected value.</summary>
    private static (string Field, string? Expected) Locate(string? jsonPath, JsonTypeInfo root)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
            return ("", null);
        string field = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..]
            : jsonPath.StartsWith('$') ? jsonPath[1..] : jsonPath;

        Type? current = root.Type;
        foreach (string segment in field.Split('.'))
        {
            string name = segment;
            int bracket = segment.IndexOf('[');
            if (bracket >= 0)
                name = segment[..bracket];
            var info = Options.GetTypeInfo(current!);
            var property = info.Properties.FirstOrDefault(p => p.Name == name);
            if (property is null)
                return (field, null);
            current = property.PropertyType;
            for (int i = bracket; i >= 0 && i < segment.Length; i = segment.IndexOf('[', i + 1))
            {
                var elementType = Options.GetTypeInfo(current).ElementType;
                if (elementType is null)
                    return (field, null);
                current = elementType;
            }
        }
        return (field, DescribeType(current!));
    }

    private static string DescribeType(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        string orNull = underlying is null ? "" : " or null";
        type = underlying ?? type;
        if (type == typeof(string)) return "a string" + orNull;
        if (type == typeof(bool)) return "true or false" + orNull;
        if (type == typeof(int) || type == typeof(long)) return "a whole number" + orNull;
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return "a number" + orNull;
        if (type.IsEnum)
            return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => JsonNamingPolicy.CamelCase.ConvertName(n))) + orNull;
        var info = Options.GetTypeInfo(type);
        return info.Kind switch
        {
            JsonTypeInfoKind.Enumerable => $"an array of {DescribeType(info.ElementType!).Replace(" or null", "")}",
            JsonTypeInfoKind.Dictionary => "a JSON object",
            JsonTypeInfoKind.Object => "a JSON object",
            _ => $"a {type.Name} value",
        };
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    internal static string Join(string prefix, string field) =>
        prefix.Length == 0 ? field : field.Length == 0 ? prefix : $"{prefix}.{field}";

    private static string FirstSentence(string message)
    {
        int path = message.IndexOf(" Path:", StringComparison.Ordinal);
        return path > 0 ? message[..path] : message;
    }
}
