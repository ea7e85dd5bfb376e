using System.Threading.Channels;
using Baton.Checkpoints;

namespace Baton.Supervision;

/// <summary>
/// Watches a checkpoint directory: file-system events wake a scan at once, and a periodic rescan catches what
/// events miss (FUSE and network mounts such as a mounted Google Drive deliver none). Each scan's newest complete
/// checkpoint goes to <c>found</c>; a scan is also scheduled for when a file seen changing may have settled. A trainer
/// that replaces its checkpoints faster than they settle is told so once, since none of them can be pushed.
/// </summary>
internal sealed class CheckpointWatcher(CheckpointScanner scanner, TimeSpan interval, Action<Checkpoint> found, ISupervisorLog log, TimeProvider timeProvider)
{
    private const int ReplacedBeforeSettlingToWarn = 3;
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(25);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private string? _lastFound;
    private string? _pending;
    private int _replacedBeforeSettling;
    private bool _warnedTooFast;

    /// <summary>Asks for a scan now (e.g. after a push was abandoned, or the trainer exited).</summary>
    public void Poke() => _wake.Writer.TryWrite(true);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var watcher = TryWatch();
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan? recheck = null;
            try
            {
                var result = scanner.Scan(DetectionMode.Live);
                recheck = result.RecheckIn;
                WatchForStarvation(result);
                if (result.Newest is { } newest)
                {
                    found(newest);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Warn($"cannot scan '{scanner.Directory}': {e.Message}");
            }

            var wait = recheck is { } r && r < interval ? r + TimeSpan.FromMilliseconds(20) : interval;
            using var rescan = new CancellationTokenSource(wait, timeProvider);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, rescan.Token);
            try
            {
                await _wake.Reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
                _wake.Reader.TryRead(out _);
                // A commit record is complete when it appears: no burst of events to wait out before pushing it.
                if (!scanner.Committing)
                {
                    await Task.Delay(Debounce, timeProvider, cancellationToken).ConfigureAwait(false);
                    _wake.Reader.TryRead(out _);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // the periodic rescan
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // Counts whole checkpoints that were replaced by newer ones before they settled, with none found in between.
    private void WatchForStarvation(DetectionResult result)
    {
        if (result.Newest is { } newest && newest.Name != _lastFound)
        {
            _lastFound = newest.Name;
            _replacedBeforeSettling = 0;
        }
        else if (result.Pending is { } pending && _pending is { } earlier && pending != earlier)
        {
            _replacedBeforeSettling++;
        }

        _pending = result.Pending ?? (result.Newest is null ? _pending : null);
        if (_replacedBeforeSettling >= ReplacedBeforeSettlingToWarn && !_warnedTooFast)
        {
            _warnedTooFast = true;
            log.Warn($"checkpoints are replaced before they settle ({_replacedBeforeSettling} in a row; the files of one must stay unchanged for {Durations.Format(scanner.Detector.Options.SettlePeriod)}), so none is pushed until one lasts that long or the trainer exits: lower --quiet-period");
        }
    }

    private FileSystemWatcher? TryWatch()
    {
        try
        {
            var watcher = new FileSystemWatcher(scanner.Directory)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.LastWrite,
            };
            watcher.Changed += (_, _) => Poke();
            watcher.Created += (_, _) => Poke();
            watcher.Deleted += (_, _) => Poke();
            watcher.Renamed += (_, _) => Poke();
            watcher.Error += (_, _) => Poke();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            // Out of inotify instances, or a file system without events: the periodic rescan still finds everything.
            log.Warn($"no file-system events for '{scanner.Directory}' ({e.Message}); rescanning every {Durations.Format(interval)}");
            return null;
        }
    }
}
