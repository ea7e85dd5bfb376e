using Microsoft.Win32.SafeHandles;
using Polly;
using Polly.Retry;

namespace Baton.Staging;

/// <summary>
/// Downloads the missing parts of a <see cref="PartialDownload"/>, several at once, each written at its offset. A part
/// that fails (a dropped connection, a stalled transfer, a 5xx) is tried again from the byte where it stopped, with
/// exponential backoff and jitter; its progress is saved so a later run resumes too.
/// </summary>
internal sealed class RangeDownloader
{
    // Progress is saved every 32 MiB or every second, whichever comes first, so a killed process loses little.
    private const long SaveEveryBytes = 32L << 20;
    private static readonly TimeSpan SaveEveryInterval = TimeSpan.FromSeconds(1);
    private readonly StageOptions _options;
    private readonly SemaphoreSlim _connections;
    private readonly Action<long> _onBytes;
    private readonly ResiliencePipeline _retry;

    public RangeDownloader(StageOptions options, SemaphoreSlim connections, Action<long> onBytes)
    {
        _options = options;
        _connections = connections;
        _onBytes = onBytes;
        _retry = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = Math.Max(0, options.MaxAttempts - 1),
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();
    }

    /// <summary>Whether a failure is worth another try of the same range.</summary>
    public static bool IsTransient(Exception e) =>
        e is TransientSourceException or TimeoutException or HttpRequestException
        || (e is IOException && e is not SourceChangedException and not FileNotFoundException and not DirectoryNotFoundException);

    public async Task DownloadAsync(RemoteFile file, PartialDownload partial, CancellationToken cancellationToken)
    {
        using var handle = File.OpenHandle(partial.DataPath, FileMode.Open, FileAccess.Write, FileShare.None, FileOptions.Asynchronous);
        try
        {
            var pending = partial.State.Parts.Where(p => !p.Complete).ToList();
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Connections), CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(pending, parallel, async (part, token) =>
                await _retry.ExecuteAsync(async t => await DownloadPartAsync(file, partial, part, handle, t).ConfigureAwait(false), token).ConfigureAwait(false))
                .ConfigureAwait(false);
            await _retry.ExecuteAsync(async t => await file.Reader.EnsureUnchangedAsync(t).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Whatever happened, remember what is on disk: the next run resumes from there.
            partial.Checkpoint(handle);
        }
    }

    private async ValueTask DownloadPartAsync(RemoteFile file, PartialDownload partial, DownloadPart part, SafeFileHandle handle, CancellationToken cancellationToken)
    {
        if (!file.SupportsRanges && part.Done > 0)
        {
            // Without ranges a retry starts the file over.
            _onBytes(-part.Done);
            part.Done = 0;
        }

        await _connections.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var offset = part.Start + part.Done;
            var length = part.End < 0 ? -1 : part.End - offset;
            if (length == 0)
            {
                return;
            }

            await using var body = await file.Reader.OpenAsync(offset, length, cancellationToken).ConfigureAwait(false);
            await CopyAsync(body, partial, part, handle, cancellationToken).ConfigureAwait(false);
            if (part.End < 0)
            {
                part.End = part.Start + part.Done;
            }
            else if (!part.Complete)
            {
                throw new TransientSourceException($"{file.Display} ended early: {part.Start + part.Done} of {part.End} bytes");
            }
        }
        finally
        {
            _connections.Release();
        }
    }

    private async Task CopyAsync(Stream body, PartialDownload partial, DownloadPart part, SafeFileHandle handle, CancellationToken cancellationToken)
    {
        var buffer = new byte[256 * 1024];
        var sinceSave = 0L;
        var lastSave = _options.TimeProvider.GetTimestamp();
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            idle.CancelAfter(_options.IdleTimeout);
            int read;
            try
            {
                var room = part.End < 0 ? buffer.Length : (int)Math.Min(buffer.Length, part.End - part.Start - part.Done);
                if (room == 0)
                {
                    return;
                }

                read = await body.ReadAsync(buffer.AsMemory(0, room), idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no data for {_options.IdleTimeout.TotalSeconds:0} s");
            }

            if (read == 0)
            {
                return;
            }

            await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, read), part.Start + part.Done, cancellationToken).ConfigureAwait(false);
            part.Done += read;
            _onBytes(read);
            sinceSave += read;
            if (sinceSave >= SaveEveryBytes || _options.TimeProvider.GetElapsedTime(lastSave) >= SaveEveryInterval)
            {
                partial.Checkpoint(handle);
                sinceSave = 0;
                lastSave = _options.TimeProvider.GetTimestamp();
            }
        }
    }
}
