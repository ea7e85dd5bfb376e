using Microsoft.Win32.SafeHandles;

namespace Baton.Storage.Rclone;

/// <summary>
/// Read-ahead for ranged reads: each rclone command is a process (tens of milliseconds of CPU, and a round trip to the
/// remote), and a restore reads a pack as many small ranges, one per chunk. The first ranged read of an object fetches
/// the window of <see cref="WindowSize"/> bytes around it (windows start at multiples of their size) into a temporary
/// file with one <c>rclone cat</c>; reads that fall inside it are served from the file. At most <see cref="MaxWindows"/> windows
/// are kept (least recently used go first), a write or delete through the store drops the key's windows, and the
/// files are deleted when the store is disposed. Thread-safe.
/// </summary>
internal sealed class RcloneReadWindows : IDisposable
{
    /// <summary>Bytes fetched per window: a whole pack at Baton's default pack size (32 MiB) and its header.</summary>
    public const int WindowSize = 40 << 20;

    /// <summary>Windows kept: a restore reads a few files, each from its own pack, at once.</summary>
    public const int MaxWindows = 6;

    private readonly Lock _lock = new();
    private readonly List<Window> _windows = [];
    private readonly Lazy<string> _folder = new(() => Directory.CreateTempSubdirectory("baton-rclone-").FullName);
    private long _clock;
    private bool _disposed;

    /// <summary>
    /// The bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> of
    /// <paramref name="key"/> from a window, fetching one with <paramref name="fetch"/> (which writes the window's
    /// bytes from the offset into the given file) when no window holds them; null when the object ends before the
    /// range does (the caller reads it directly and gets the store's own error).
    /// </summary>
    public async Task<Stream?> ReadAsync(string key, long offset, long length, Func<string, long, CancellationToken, Task> fetch, CancellationToken cancellationToken)
    {
        // Windows start at multiples of their size, so reads of one pack that arrive out of order share one window.
        var start = offset / WindowSize * WindowSize;
        if (offset + length > start + WindowSize)
        {
            return null;
        }

        Window window;
        var fetching = false;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            window = _windows.FirstOrDefault(w => w.Key == key && w.Start == start && !w.Failed) ?? Add(key, start, out fetching);
            window.LastUse = ++_clock;
        }

        if (fetching)
        {
            _ = FetchAsync(window, fetch);
        }

        await window.Ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            if (window.Handle is not { } handle || offset + length > window.Start + window.Length || !_windows.Contains(window))
            {
                return null;
            }

            // The stream holds its own reference, so an eviction meanwhile deletes the file's name, not its bytes.
            window.Readers++;
            return new WindowStream(this, window, handle, offset - window.Start, length);
        }
    }

    /// <summary>Drops the windows of a key that is being written or deleted.</summary>
    public void Forget(string key)
    {
        lock (_lock)
        {
            foreach (var window in _windows.Where(w => w.Key == key).ToList())
            {
                Remove(window);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var window in _windows.ToList())
            {
                Remove(window);
            }
        }

        if (_folder.IsValueCreated)
        {
            try
            {
                Directory.Delete(_folder.Value, recursive: true);
            }
            catch (IOException)
            {
                // A window still being fetched; its file goes with the temporary folder's next cleanup.
            }
        }
    }

    private Window Add(string key, long offset, out bool fetching)
    {
        while (_windows.Count >= MaxWindows && _windows.Where(w => w.Ready.Task.IsCompleted).MinBy(w => w.LastUse) is { } oldest)
        {
            Remove(oldest);
        }

        var window = new Window(key, offset, Path.Combine(_folder.Value, Guid.NewGuid().ToString("N")));
        _windows.Add(window);
        fetching = true;
        return window;
    }

    private async Task FetchAsync(Window window, Func<string, long, CancellationToken, Task> fetch)
    {
        try
        {
            // Not the first reader's token: the window serves every reader that waits on it.
            await fetch(window.File, window.Start, CancellationToken.None).ConfigureAwait(false);
            var handle = File.OpenHandle(window.File, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            lock (_lock)
            {
                window.Handle = handle;
                window.Length = RandomAccess.GetLength(handle);
                if (!_windows.Contains(window))
                {
                    handle.Dispose();
                    window.Handle = null;
                }
            }
        }
        catch (Exception e) when (e is StoreException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Readers fall back to reading their range directly, which reports the store's error itself.
            lock (_lock)
            {
                window.Failed = true;
            }
        }
        finally
        {
            window.Ready.TrySetResult();
            TryDelete(window.File);
        }
    }

    private void Remove(Window window)
    {
        _windows.Remove(window);
        if (window.Readers == 0)
        {
            window.Handle?.Dispose();
            window.Handle = null;
        }
    }

    private void Release(Window window)
    {
        lock (_lock)
        {
            window.Readers--;
            if (window.Readers == 0 && !_windows.Contains(window))
            {
                window.Handle?.Dispose();
                window.Handle = null;
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    // The file's name is deleted as soon as it is open: the bytes live until the last handle closes, and a killed
    // process leaves nothing behind but the folder.
    private sealed class Window(string key, long start, string file)
    {
        public string Key { get; } = key;
        public long Start { get; } = start;
        public string File { get; } = file;
        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public SafeFileHandle? Handle { get; set; }
        public long Length { get; set; }
        public long LastUse { get; set; }
        public int Readers { get; set; }
        public bool Failed { get; set; }
    }

    private sealed class WindowStream(RcloneReadWindows owner, Window window, SafeFileHandle handle, long start, long length) : Stream
    {
        private long _position;
        private bool _released;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var wanted = (int)Math.Min(buffer.Length, length - _position);
            if (wanted <= 0)
            {
                return 0;
            }

            var read = RandomAccess.Read(handle, buffer[..wanted], start + _position);
            _position += read;
            return read;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
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
            if (disposing && !_released)
            {
                _released = true;
                owner.Release(window);
            }

            base.Dispose(disposing);
        }
    }
}
