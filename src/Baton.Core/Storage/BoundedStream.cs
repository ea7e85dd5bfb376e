using Baton.Storage.Decorators;

namespace Baton.Storage;

/// <summary>A read-only view of the next <c>length</c> bytes of an inner stream; disposes the inner stream.</summary>
/// <param name="inner">The stream to read from, positioned at the first byte of the view; disposed with this one.</param>
/// <param name="length">How many bytes the view holds, at most.</param>
public sealed class BoundedStream(Stream inner, long length) : ReadStreamDecorator(inner)
{
    private readonly long _length = length;
    private long _remaining = length;

    /// <summary>The length given at construction, even when the inner stream ends sooner.</summary>
    public override long Length => _length;

    /// <summary>How many bytes have been read so far.</summary>
    /// <exception cref="NotSupportedException">On set: the stream is forward-only.</exception>
    public override long Position { get => _length - _remaining; set => throw new NotSupportedException(); }

    /// <summary>Reads from the inner stream, never past the view's end; 0 at that end or at the inner stream's.</summary>
    public override int Read(Span<byte> buffer)
    {
        if (_remaining <= 0)
        {
            return 0;
        }

        var read = Inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= read;
        return read;
    }

    /// <summary>Reads from the inner stream, never past the view's end; 0 at that end or at the inner stream's.</summary>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining <= 0)
        {
            return 0;
        }

        var read = await Inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        _remaining -= read;
        return read;
    }
}
