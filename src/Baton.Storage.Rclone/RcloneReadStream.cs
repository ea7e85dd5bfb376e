using System.Diagnostics;

namespace Baton.Storage.Rclone;

/// <summary>
/// The stdout of an <c>rclone cat</c>, read as a stream. Reaching the end checks rclone's exit code, so a transfer
/// that failed half-way is an error, never a silently short object. Disposing early ends the process.
/// </summary>
internal sealed class RcloneReadStream : Stream
{
    private readonly Process _process;
    private readonly Stream _output;
    private readonly Task<string> _errors;
    private readonly Func<RcloneResult, StoreException> _classify;
    private byte[] _head = [];
    private int _headOffset;
    private long _position;
    private bool _finished;

    private RcloneReadStream(Process process, Func<RcloneResult, StoreException> classify)
    {
        _process = process;
        _output = process.StandardOutput.BaseStream;
        _errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        _classify = classify;
    }

    /// <summary>Whether rclone ended successfully without writing a byte (an empty object, or on some remotes none).</summary>
    public bool EndedEmpty => _finished && _head.Length == 0;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>
    /// Wraps a started <c>rclone cat</c> and waits for its first bytes (or its end), so that a missing object fails
    /// when it is opened rather than when it is read.
    /// </summary>
    public static async Task<RcloneReadStream> OpenAsync(Process process, Func<RcloneResult, StoreException> classify, CancellationToken cancellationToken)
    {
        var stream = new RcloneReadStream(process, classify);
        try
        {
            var head = new byte[64 * 1024];
            var read = await stream.ReadAsync(head, cancellationToken).ConfigureAwait(false);
            stream._head = head[..read];
            stream._position = 0;
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (TakeHead(buffer) is var fromHead and > 0)
        {
            return fromHead;
        }

        if (_finished || buffer.Length == 0)
        {
            return 0;
        }

        var read = _output.Read(buffer);
        if (read > 0)
        {
            _position += read;
            return read;
        }

        _process.WaitForExit();
        return Finish(_errors.GetAwaiter().GetResult());
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (TakeHead(buffer.Span) is var fromHead and > 0)
        {
            return fromHead;
        }

        if (_finished || buffer.Length == 0)
        {
            return 0;
        }

        var read = await _output.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read > 0)
        {
            _position += read;
            return read;
        }

        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return Finish(await _errors.ConfigureAwait(false));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

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
            if (!_finished)
            {
                RcloneRunner.Kill(_process);
            }

            _process.Dispose();
        }

        base.Dispose(disposing);
    }

    private int TakeHead(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _head.Length - _headOffset);
        if (n <= 0)
        {
            return 0;
        }

        _head.AsSpan(_headOffset, n).CopyTo(buffer);
        _headOffset += n;
        _position += n;
        return n;
    }

    private int Finish(string errors)
    {
        _finished = true;
        if (_process.ExitCode != 0)
        {
            throw _classify(new RcloneResult(_process.ExitCode, [], errors));
        }

        return 0;
    }
}
