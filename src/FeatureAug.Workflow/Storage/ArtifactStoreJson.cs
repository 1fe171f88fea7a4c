using System.Text.Json;

namespace FeatureAug.Workflow.Storage;

/// <summary>A JSON document together with the version it was read from.</summary>
/// <param name="Value">The deserialized document.</param>
/// <param name="ETag">Pass to <see cref="WriteCondition.IfMatch"/> to replace exactly this version.</param>
public sealed record VersionedDocument<T>(T Value, string ETag);

/// <summary>Small JSON documents (reports, manifests, pointers) on any <see cref="IArtifactStore"/>.</summary>
public static class ArtifactStoreJson
{
    /// <summary>Largest document read into memory: reports and pointers are far smaller, anything bigger is not one.</summary>
    public const int MaxDocumentBytes = 64 * 1024 * 1024;

    /// <summary>camelCase names, case-insensitive reading, indented so stored documents are readable.</summary>
    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Stores <paramref name="value"/> as JSON at <paramref name="path"/>, replacing any previous version.</summary>
    public static async Task<ArtifactProperties> WriteJsonAsync<T>(
        this IArtifactStore store, string path, T value, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        using var content = Serialize(value);
        return await store.WriteAsync(path, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores <paramref name="value"/> as JSON only if <paramref name="condition"/> holds; false when another writer won.</summary>
    public static async Task<bool> TryWriteJsonIfMatchAsync<T>(
        this IArtifactStore store, string path, T value, WriteCondition condition, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        using var content = Serialize(value);
        return await store.TryWriteIfMatchAsync(path, content, condition, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the JSON document at <paramref name="path"/>.</summary>
    /// <exception cref="ArtifactNotFoundException">Nothing is stored there.</exception>
    /// <exception cref="InvalidDataException">The content is not a JSON <typeparamref name="T"/>.</exception>
    public static async Task<T> ReadJsonAsync<T>(this IArtifactStore store, string path, CancellationToken cancellationToken) =>
        (await ReadVersionedAsync<T>(store, path, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>
    /// Reads the JSON document and the ETag of exactly the version read (one request, so they belong
    /// together), or null when nothing is stored. The basis of a read-modify-conditional-write.
    /// </summary>
    public static async Task<VersionedDocument<T>?> TryReadJsonAsync<T>(
        this IArtifactStore store, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadVersionedAsync<T>(store, path, cancellationToken).ConfigureAwait(false);
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
    }

    private static async Task<VersionedDocument<T>> ReadVersionedAsync<T>(
        IArtifactStore store, string path, CancellationToken cancellationToken)
    {
        ArtifactPath.Validate(path);
        await using var artifact = await store.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
        if (artifact.Properties.Size > MaxDocumentBytes)
            throw new InvalidDataException(
                $"Artifact '{path}' holds {artifact.Properties.Size} bytes, more than the {MaxDocumentBytes} a JSON document may have.");
        // Read to the end before parsing so the recorded SHA-256 is checked.
        using var buffer = new MemoryStream((int)artifact.Properties.Size);
        await artifact.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), SerializerOptions);
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException(
                $"Artifact '{path}' is not a valid JSON {typeof(T).Name}: {exception.Message}", exception);
        }
        if (value is null)
            throw new InvalidDataException($"Artifact '{path}' holds JSON null where a {typeof(T).Name} was expected.");
        return new VersionedDocument<T>(value, artifact.Properties.ETag);
    }

    private static MemoryStream Serialize<T>(T value)
    {
        var content = new MemoryStream();
        JsonSerializer.Serialize(content, value, SerializerOptions);
        content.Position = 0;
        return content;
    }
}
