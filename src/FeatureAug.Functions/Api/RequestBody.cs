using FeatureAug.Functions.Requests;

namespace FeatureAug.Functions.Api;

/// <summary>Reads a request body into memory, refusing more than <see cref="StrictJson.MaxDocumentBytes"/>.</summary>
public static class RequestBody
{
    /// <summary>The body's bytes, or null when it is larger than the limit (the rest is not read).</summary>
    public static async Task<byte[]?> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > StrictJson.MaxDocumentBytes)
                return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>413 for a body over the limit.</summary>
    public static ApiResult TooLarge() =>
        ApiResult.Problem(413, "Request body too large.", $"The body may have at most {StrictJson.MaxDocumentBytes} bytes.");
}
