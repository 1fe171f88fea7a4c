namespace FeatureAug.Workflow.Tests.Storage;

/// <summary>
/// A forward-only stream of deterministic pseudo-random bytes, generated as it is read, so a store must
/// stream it (no Length, no Seek). Optionally fails or runs a callback once a given number of bytes has
/// been handed out, to interrupt a write half-way.
/// </summary>
internal sealed class PatternStream : Stream
{
    private readonly long _length;
    private readonly long _interruptAfter;
    private readonly Action? _interrupt;
    private ulong _state;
    private long _position;
    private bool _interrupted;

    /// <param name="length">Total bytes the stream yields.</param>
    /// <param name="seed">Selects the byte sequence; equal seeds give equal bytes.</param>
    /// <param name="interruptAfter">After this many bytes, <paramref name="interrupt"/> runs (once) before the next read.</param>
    /// <param name="interrupt">What to do then: throw, or cancel a token the writer watches.</param>
    public PatternStream(long length, int seed, long interruptAfter = long.MaxValue, Action? interrupt = null)
    {
        _length = length;
        _state = SeedState(seed);
        _interruptAfter = interruptAfter;
        _interrupt = interrupt;
    }

    /// <summary>The bytes a <see cref="PatternStream"/> with this length and seed yields.</summary>
    public static byte[] Bytes(long length, int seed)
    {
        var bytes = new byte[length];
        ulong state = SeedState(seed);
        for (long i = 0; i < length; i++)
            bytes[i] = Next(ref state);
        return bytes;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException("PatternStream has no length, like a network stream.");

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (!_interrupted && _position >= _interruptAfter && _interrupt is not null)
        {
            _interrupted = true;
            _interrupt();
        }
        // Hand out at most 64 KiB per call and never cross the interrupt point, like a socket would.
        long untilInterrupt = _interrupted ? long.MaxValue : _interruptAfter - _position;
        int count = (int)Math.Min(Math.Min(buffer.Length, 64 * 1024), Math.Min(_length - _position, untilInterrupt));
        for (int i = 0; i < count; i++)
            buffer[i] = Next(ref _state);
        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private static ulong SeedState(int seed) => 0x9E3779B97F4A7C15UL ^ (ulong)(uint)seed * 0xBF58476D1CE4E5B9UL | 1;

    private static byte Next(ref ulong state)
    {
        // xorshift64: cheap, deterministic, and far from any pattern a store could special-case.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return (byte)(state >> 56);
    }
}
