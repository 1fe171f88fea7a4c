using System.Security.Cryptography;

namespace FeatureAug.Workflow.Storage;

/// <summary>
/// The content of one artifact version, with its <see cref="Properties"/>. Read front to back, it checks
/// the content against the size and SHA-256 recorded at write time and throws
/// <see cref="ArtifactIntegrityException"/> at the end instead of reporting a clean end of stream when
/// they differ. Seeking switches the check off (the stream can no longer see every byte in order).
/// </summary>
public sealed class ArtifactReadStream : Stream
{
    private readonly Stream _inner;
    private IncrementalHash? _hash;
    private long _bytesSeen;
    private bool _verified;

    internal ArtifactReadStream(Stream inner, ArtifactProperties properties)
    {
        _inner = inner;
        Properties = properties;
        _hash = properties.Sha256 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }

    /// <summary>The version being read; its ETag is the one to use for a conditional replace.</summary>
    public ArtifactProperties Properties { get; }

    public override bool CanRead => true;
    public override bool CanSeek => _inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => Properties.Size;

    public override long Position
    {
        get => _inner.Position;
        set
        {
            StopVerifying();
            _inner.Position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = _inner.Read(buffer);
        Observe(buffer[..read], buffer.Length);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Observe(buffer.Span[..read], buffer.Length);
        return read;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        StopVerifying();
        return _inner.Seek(offset, origin);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException("Artifact read streams are read-only.");
    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Artifact read streams are read-only.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash?.Dispose();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _hash?.Dispose();
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void Observe(ReadOnlySpan<byte> chunk, int requested)
    {
        // A zero-length request returns 0 without meaning end of stream.
        if (_verified || requested == 0)
            return;
        if (chunk.Length > 0)
        {
            _bytesSeen += chunk.Length;
            _hash?.AppendData(chunk);
            if (_bytesSeen > Properties.Size)
                throw new ArtifactIntegrityException(Properties.Path,
                    $"it holds more than the {Properties.Size} bytes recorded");
            return;
        }

        // End of stream: everything was seen in order, so the check is complete.
        _verified = true;
        if (_bytesSeen != Properties.Size)
            throw new ArtifactIntegrityException(Properties.Path,
                $"it ends after {_bytesSeen} bytes but {Properties.Size} were recorded");
        if (_hash is not null)
        {
            string actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
            if (!string.Equals(actual, Properties.Sha256, StringComparison.Ordinal))
                throw new ArtifactIntegrityException(Properties.Path,
                    $"its SHA-256 is {actual} but {Properties.Sha256} was recorded");
        }
    }

    private void StopVerifying()
    {
        _verified = true;
        _hash?.Dispose();
        _hash = null;
    }
}
