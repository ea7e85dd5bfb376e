using Baton.Checkpoints;
using Baton.Repositories;
using Baton.Snapshots;

namespace Baton.Supervision;

/// <summary>
/// Pushes checkpoints in the background, newest wins: one push runs, at most one newer checkpoint waits, and a
/// checkpoint that arrives while another waits replaces it (the older one is dropped, never queued). A push whose
/// files change underneath it is abandoned (nothing is committed) and the newer checkpoint goes next; a push that
/// fails on the store is retried with backoff unless a newer checkpoint has arrived meanwhile.
/// </summary>
internal sealed class PushSlot
{
    private const int DrainAttempts = 3;
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly Func<Checkpoint, CancellationToken, Task<Snapshot>> _push;
    private readonly Action<Checkpoint, Snapshot> _committed;
    private readonly ISupervisorLog _log;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private readonly Queue<string> _committedFingerprints = new();
    private CancellationTokenSource _hurry = new();
    private Task? _running;
    private Checkpoint? _current;
    private Checkpoint? _pending;
    private bool _draining;

    public PushSlot(Func<Checkpoint, CancellationToken, Task<Snapshot>> push, Action<Checkpoint, Snapshot> committed, ISupervisorLog log, TimeProvider timeProvider)
    {
        _push = push;
        _committed = committed;
        _log = log;
        _timeProvider = timeProvider;
    }

    /// <summary>The last checkpoint known to be in the store (pushed, or restored from it).</summary>
    public Checkpoint? LastCommitted { get; private set; }

    /// <summary>The highest step known to be in the store; older checkpoints are not pushed.</summary>
    public long? NewestCommittedStep { get; private set; }

    public int Committed { get; private set; }

    public int Abandoned { get; private set; }

    public int Failures { get; private set; }

    public int Dropped { get; private set; }

    /// <summary>The error of the last failed attempt, cleared by the next commit.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Records what the store already holds (a restored checkpoint, or the newest step of the run).</summary>
    public void MarkCommitted(Checkpoint? checkpoint, long? step)
    {
        lock (_gate)
        {
            if (checkpoint is not null)
            {
                Remember(checkpoint);
                LastCommitted = checkpoint;
            }

            NewestCommittedStep = Max(NewestCommittedStep, step);
        }
    }

    /// <summary>Offers a complete checkpoint; returns whether it will be pushed (now or next).</summary>
    public bool Offer(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        lock (_gate)
        {
            var known = _committedFingerprints.Contains(checkpoint.Fingerprint) || checkpoint.Fingerprint == _current?.Fingerprint
                || checkpoint.Fingerprint == _pending?.Fingerprint || _changed.Contains(checkpoint.Fingerprint);
            if (_abort.IsCancellationRequested || known || IsOlder(checkpoint, _current?.Step, _pending?.Step))
            {
                return false;
            }

            if (_running is null)
            {
                _current = checkpoint;
                _running = Task.Run(() => RunAsync(checkpoint));
            }
            else
            {
                if (_pending is not null)
                {
                    Dropped++;
                }

                _pending = checkpoint;
            }

            return true;
        }
    }

    /// <summary>
    /// Waits until nothing runs or waits, retrying a failing push a few times; returns the error that kept the newest
    /// checkpoint out of the store, if one did.
    /// </summary>
    public async Task<Exception?> DrainAsync(CancellationToken cancellationToken = default)
    {
        CancellationTokenSource hurry;
        lock (_gate)
        {
            _draining = true;
            hurry = _hurry;
        }

        await hurry.CancelAsync().ConfigureAwait(false);

        while (true)
        {
            Task? running;
            lock (_gate)
            {
                running = _running;
            }

            if (running is null)
            {
                return LastError;
            }

            await running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Abandons the push in flight (nothing partial is committed) and drops the waiting one.</summary>
    public async Task AbandonAsync()
    {
        lock (_gate)
        {
            _pending = null;
        }

        await _abort.CancelAsync().ConfigureAwait(false);
    }

    private async Task RunAsync(Checkpoint first)
    {
        var current = first;
        var attempts = 0;
        while (true)
        {
            var failed = false;
            try
            {
                var snapshot = await _push(current, _abort.Token).ConfigureAwait(false);
                lock (_gate)
                {
                    Remember(current);
                    LastCommitted = current;
                    NewestCommittedStep = Max(NewestCommittedStep, current.Step);
                    Committed++;
                    LastError = null;
                }

                attempts = 0;
                _committed(current, snapshot);
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                Finish();
                return;
            }
            catch (CheckpointChangedException e)
            {
                lock (_gate)
                {
                    Abandoned++;
                    if (_changed.Count > 1000)
                    {
                        _changed.Clear();
                    }

                    _changed.Add(current.Fingerprint);
                }

                _log.Info($"{current.Describe()} changed while it was being pushed ({e.Path}); nothing was committed, the newer checkpoint goes next");
            }
            catch (Exception e) when (e is BatonException or IOException or UnauthorizedAccessException)
            {
                attempts++;
                failed = true;
                lock (_gate)
                {
                    Failures++;
                    LastError = e;
                }

                _log.Warn($"push of {current.Describe()} failed (attempt {attempts}): {e.Message}");
            }

            if (failed && !await RetryAsync(current, attempts).ConfigureAwait(false))
            {
                Finish();
                return;
            }

            lock (_gate)
            {
                if (_pending is null)
                {
                    _running = null;
                    _current = null;
                    return;
                }

                if (_pending != current)
                {
                    attempts = 0;
                }

                // A newer checkpoint may have been committed since this one was queued.
                if (IsOlder(_pending))
                {
                    _pending = null;
                    _running = null;
                    _current = null;
                    return;
                }

                current = _pending;
                _current = current;
                _pending = null;
            }
        }
    }

    // Waits before a retry (cut short by a drain); leaves the failed checkpoint waiting unless a newer one is there.
    private async Task<bool> RetryAsync(Checkpoint failed, int attempts)
    {
        CancellationToken hurry;
        lock (_gate)
        {
            if (_draining && attempts >= DrainAttempts)
            {
                return _pending is not null;
            }

            if (_draining && _hurry.IsCancellationRequested)
            {
                _hurry = new CancellationTokenSource();
            }

            hurry = _hurry.Token;
        }

        var delay = TimeSpan.FromSeconds(Math.Min(MaxRetryDelay.TotalSeconds, Math.Pow(2, attempts - 1)));
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(hurry, _abort.Token);
            await Task.Delay(delay, _timeProvider, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_abort.IsCancellationRequested)
        {
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        lock (_gate)
        {
            _pending ??= failed;
        }

        return true;
    }

    private void Finish()
    {
        lock (_gate)
        {
            _running = null;
            _current = null;
            _pending = null;
        }
    }

    // Older than what the store holds, or than what is being pushed or waits: pushing it would move history backwards.
    private bool IsOlder(Checkpoint checkpoint, params long?[] others) =>
        checkpoint.Step is { } step && others.Append(NewestCommittedStep).Any(other => other is { } newer && step < newer);

    private void Remember(Checkpoint checkpoint)
    {
        _committedFingerprints.Enqueue(checkpoint.Fingerprint);
        while (_committedFingerprints.Count > 16)
        {
            _committedFingerprints.Dequeue();
        }
    }

    private static long? Max(long? a, long? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
}
