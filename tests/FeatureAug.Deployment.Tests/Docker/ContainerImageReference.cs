namespace FeatureAug.Deployment.Tests.Docker;

/// <summary>
/// A parsed image reference <c>[registry/]repository[:tag][@digest]</c>, e.g.
/// <c>mcr.microsoft.com/dotnet/sdk:10.0-azurelinux3.0</c>.
/// </summary>
public sealed record ContainerImageReference(string? Registry, string Repository, string? Tag, string? Digest)
{
    /// <summary>Parses an image reference as written after <c>FROM</c>.</summary>
    /// <exception cref="FormatException">The reference is empty or malformed.</exception>
    public static ContainerImageReference Parse(string reference)
    {
        if (string.IsNullOrWhiteSpace(reference) || reference.Any(char.IsWhiteSpace))
        {
            throw new FormatException($"'{reference}' is not an image reference.");
        }

        string remainder = reference;
        string? digest = null;
        int at = remainder.IndexOf('@');
        if (at >= 0)
        {
            digest = remainder[(at + 1)..];
            remainder = remainder[..at];
        }

        string? registry = null;
        int firstSlash = remainder.IndexOf('/');
        if (firstSlash > 0)
        {
            string firstPart = remainder[..firstSlash];
            // Docker's rule: the first component is a registry when it looks like a host name.
            if (firstPart.Contains('.') || firstPart.Contains(':') || firstPart == "localhost")
            {
                registry = firstPart;
                remainder = remainder[(firstSlash + 1)..];
            }
        }

        string? tag = null;
        int colon = remainder.LastIndexOf(':');
        if (colon >= 0)
        {
            tag = remainder[(colon + 1)..];
            remainder = remainder[..colon];
        }

        if (remainder.Length == 0 || tag is { Length: 0 } || digest is { Length: 0 })
        {
            throw new FormatException($"'{reference}' is missing its repository, tag or digest after a separator.");
        }
        return new ContainerImageReference(registry, remainder, tag, digest);
    }
}
