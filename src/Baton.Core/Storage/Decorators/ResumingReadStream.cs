using Polly;

namespace Baton.Storage.Decorators;

/// <summary>
/// A read of a range that survives a broken transfer: when the inner stream fails mid-read (a dropped connection,
/// a truncated response), it opens the object again at the first byte not yet delivered and carries on, retrying
/// with the same policy as every other store operation.
/// </summary>
internal sealed class ResumingReadStream(
    Stream first,
    ResiliencePipeline pipeline,
    string location,
    string key,
    long offset,
    long length,
    Func<long, long, CancellationToken, Task<Stream>> reopen) : Stream
{
    private Stream? _current = first;
    private long _delivered;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _delivered; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || (length >= 0 && _delivered >= length))
        {
            return 0;
        }

        return await pipeline.ExecuteAsync(async ct =>
        {
            try
            {
                _current ??= await reopen(offset + _delivered, length < 0 ? -1 : length - _delivered, ct).ConfigureAwait(false);
                var read = await _current.ReadAsync(buffer, ct).ConfigureAwait(false);
                _delivered += read;
                return read;
            }
            catch (Exception e) when (e is IOException || e is StoreException { IsTransient: true })
            {
                await DropCurrentAsync().ConfigureAwait(false);
                throw e as StoreException ?? new StoreException(StoreErrorReason.Transient, location, key,
                    $"reading '{key}' from {location} broke off after {_delivered} bytes: {e.Message}", e);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous reads cannot resume without blocking on a reopen; they read the current stream only.
    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = (_current ?? throw new IOException($"reading '{key}' from {location} broke off")).Read(buffer, offset, count);
        _delivered += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await DropCurrentAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask DropCurrentAsync()
    {
        var current = _current;
        _current = null;
        if (current is not null)
        {
            try
            {
                await current.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The stream already failed; closing it may fail too.
            }
        }
    }
}
