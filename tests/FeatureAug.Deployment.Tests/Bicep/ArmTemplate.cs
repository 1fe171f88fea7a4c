using System.Text.Json;
using System.Text.RegularExpressions;

namespace FeatureAug.Deployment.Tests.Bicep;

/// <summary>Read access to a compiled ARM template (JSON emitted by <c>bicep build</c>).</summary>
public sealed class ArmTemplate
{
    private ArmTemplate(JsonElement root, string sourceName)
    {
        Root = root;
        SourceName = sourceName;
    }

    /// <summary>The whole document.</summary>
    public JsonElement Root { get; }

    /// <summary>File the template came from, for messages.</summary>
    public string SourceName { get; }

    /// <summary>Loads a template file.</summary>
    public static ArmTemplate Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return new ArmTemplate(document.RootElement.Clone(), Path.GetFileName(path));
    }

    /// <summary>
    /// Top-level resources. Bicep emits an array, or (language version 2.0) an object keyed by
    /// symbolic name; both are returned in document order.
    /// </summary>
    public IReadOnlyList<JsonElement> Resources
    {
        get
        {
            var resources = Root.GetProperty("resources");
            return resources.ValueKind == JsonValueKind.Array
                ? resources.EnumerateArray().ToList()
                : resources.EnumerateObject().Select(property => property.Value).ToList();
        }
    }

    /// <summary>Deployed (not <c>existing</c>) resources of one type.</summary>
    public IReadOnlyList<JsonElement> ResourcesOfType(string type) =>
        Resources.Where(resource =>
                string.Equals(resource.GetProperty("type").GetString(), type, StringComparison.OrdinalIgnoreCase)
                && !(resource.TryGetProperty("existing", out var existing) && existing.GetBoolean()))
            .ToList();

    /// <summary>The single deployed resource of a type.</summary>
    public JsonElement Single(string type)
    {
        var matches = ResourcesOfType(type);
        Assert.True(matches.Count == 1, $"{SourceName} declares {matches.Count} resources of type {type}, expected one");
        return matches[0];
    }

    /// <summary>A template parameter's declaration.</summary>
    public JsonElement Parameter(string name)
    {
        Assert.True(Root.GetProperty("parameters").TryGetProperty(name, out var parameter), $"{SourceName} has no parameter '{name}'");
        return parameter;
    }

    /// <summary>A template variable's (compile-time) value.</summary>
    public JsonElement Variable(string name)
    {
        Assert.True(Root.GetProperty("variables").TryGetProperty(name, out var variable), $"{SourceName} has no variable '{name}'");
        return variable;
    }

    /// <summary>The names of the template outputs.</summary>
    public IReadOnlyList<string> OutputNames => Root.GetProperty("outputs").EnumerateObject().Select(output => output.Name).ToList();

    /// <summary>
    /// The value a template expression such as <c>[subscriptionResourceId('…', variables('x'))]</c>
    /// takes from the single variable it references.
    /// </summary>
    public string ReferencedVariableValue(string expression)
    {
        var reference = Regex.Match(expression, @"variables\('([^']+)'\)");
        Assert.True(reference.Success, $"'{expression}' in {SourceName} references no variable");
        return Variable(reference.Groups[1].Value).GetString()!;
    }

    /// <summary>A module deployment (Microsoft.Resources/deployments) by its deployment name.</summary>
    public JsonElement Module(string deploymentName) =>
        ResourcesOfType("Microsoft.Resources/deployments")
            .Single(module => module.GetProperty("name").GetString() == deploymentName);
}
