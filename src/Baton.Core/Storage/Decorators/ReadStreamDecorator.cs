namespace Baton.Storage.Decorators;

/// <summary>
/// A read-only, forward-only stream over another stream, for decorators that watch or alter reads. Disposing it
/// disposes the inner stream, then runs <see cref="OnDisposed"/> once.
/// </summary>
/// <param name="inner">The stream to read from; owned by the decorator from now on.</param>
public abstract class ReadStreamDecorator(Stream inner) : Stream
{
    private int _disposed;

    /// <summary>The wrapped stream.</summary>
    protected Stream Inner { get; } = inner;

    /// <summary>Always <c>true</c>.</summary>
    public override bool CanRead => true;

    /// <summary>Always <c>false</c>: reads go forward only.</summary>
    public override bool CanSeek => false;

    /// <summary>Always <c>false</c>.</summary>
    public override bool CanWrite => false;

    /// <summary>Not known here.</summary>
    /// <exception cref="NotSupportedException">Always, unless a derived stream knows its length.</exception>
    public override long Length => throw new NotSupportedException();

    /// <summary>Not tracked here.</summary>
    /// <exception cref="NotSupportedException">Always, unless a derived stream tracks it (setting it always throws).</exception>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Reads into <paramref name="buffer"/> through <see cref="Read(Span{byte})"/>.</summary>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Reads from the inner stream; 0 at its end.</summary>
    public override int Read(Span<byte> buffer) => Inner.Read(buffer);

    /// <summary>Reads from the inner stream; 0 at its end.</summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Inner.ReadAsync(buffer, cancellationToken);

    /// <summary>Reads through <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>, which derived streams
    /// override.</summary>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Does nothing: there is nothing written to flush.</summary>
    public override void Flush()
    {
    }

    /// <summary>Not supported: the stream is forward-only.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <summary>Not supported: the stream is read-only.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Not supported: the stream is read-only.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Runs once, after the inner stream is disposed.</summary>
    protected virtual void OnDisposed()
    {
    }

    /// <summary>Disposes the inner stream, then runs <see cref="OnDisposed"/>; only the first call does
    /// anything.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Inner.Dispose();
            OnDisposed();
        }

        base.Dispose(disposing);
    }

    /// <summary>Disposes the inner stream asynchronously, then runs <see cref="OnDisposed"/>; only the first call
    /// (of this or <see cref="Dispose(bool)"/>) does anything.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await Inner.DisposeAsync().ConfigureAwait(false);
            OnDisposed();
        }

        await base.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
