using Baton.Checkpoints;
using Baton.Repositories;
using Baton.Snapshots;

namespace Baton.Runs;

/// <summary>Pushes one checkpoint: reads its files from <paramref name="source"/> (the checkpoint's directory, or a pin of it).</summary>
internal delegate Task<Snapshot> CheckpointPush(string source, Checkpoint checkpoint, CancellationToken cancellationToken);

/// <summary>What became of a checkpoint offered to a <see cref="PushQueue"/>.</summary>
internal enum PushStatus
{
    /// <summary>It is in the store.</summary>
    Committed,

    /// <summary>Not queued: the store holds it or a newer step already, or it is older than the one pushed or waiting.</summary>
    Refused,

    /// <summary>A newer checkpoint took its place before its push started.</summary>
    Replaced,

    /// <summary>Its files changed while it was being pushed; nothing was committed.</summary>
    Abandoned,

    /// <summary>The store kept failing and a newer checkpoint went instead, or a drain gave up on it.</summary>
    Failed,

    /// <summary>The queue was abandoned before it was offered, while it waited or while it ran; nothing partial was committed.</summary>
    Cancelled,
}

/// <summary>The end of one offered checkpoint: its snapshot when committed, the error when it failed or was abandoned.</summary>
internal sealed record PushOutcome(PushStatus Status, Snapshot? Snapshot = null, Exception? Error = null);

/// <summary>What a drain ended with.</summary>
/// <param name="Error">The error that kept the newest checkpoint out of the store, if one did.</param>
/// <param name="Abandoned">The deadline passed (or the drain was cancelled) and the push in flight was abandoned.</param>
internal sealed record DrainResult(Exception? Error, bool Abandoned);

/// <summary>One checkpoint offered to a <see cref="PushQueue"/>.</summary>
internal sealed class PushRequest
{
    private readonly TaskCompletionSource<PushOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal PushRequest(string directory, Checkpoint checkpoint)
    {
        Directory = directory;
        Checkpoint = checkpoint;
    }

    /// <summary>The directory the checkpoint's files are relative to.</summary>
    public string Directory { get; }

    /// <summary>The checkpoint.</summary>
    public Checkpoint Checkpoint { get; }

    /// <summary>Whether it will be pushed (now or next); a refused request is already complete.</summary>
    public bool Accepted { get; internal set; }

    /// <summary>Completes when the request is committed, replaced, refused, abandoned or given up; never faults.</summary>
    public Task<PushOutcome> Completion => _completion.Task;

    internal void Complete(PushOutcome outcome) => _completion.TrySetResult(outcome);
}

/// <summary>Settings and event sinks of a <see cref="PushQueue"/>; the sinks are called outside the queue's lock.</summary>
internal sealed record PushQueueOptions
{
    /// <summary>The clock of the retry backoff and the drain deadline.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The wait before the first retry; each further retry waits twice as long, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts a failing push gets once a drain waits for it; then the drain reports its error.</summary>
    public int DrainAttempts { get; init; } = 3;

    /// <summary>Told of each commit.</summary>
    public Action<Checkpoint, Snapshot>? Committed { get; init; }

    /// <summary>Told of each checkpoint abandoned because its files changed while it was pushed.</summary>
    public Action<Checkpoint, CheckpointChangedException>? Abandoned { get; init; }

    /// <summary>Told of each failed attempt (the checkpoint, the error, the attempt's number).</summary>
    public Action<Checkpoint, Exception, int>? Failed { get; init; }
}

/// <summary>
/// Pushes checkpoints in the background, newest wins, for <c>baton run</c> and for <see cref="TrainingRun"/>: one push
/// runs, at most one newer checkpoint waits, and a checkpoint that arrives while another waits replaces it (the older
/// one is dropped, never queued). Each push reads the checkpoint through a pin (<see cref="CheckpointPin"/>), so a
/// trainer that rotates its checkpoints may delete it meanwhile. A push whose files change underneath it is abandoned
/// (nothing is committed) and the newer checkpoint goes next; a push that fails on the store is retried with backoff
/// unless a newer checkpoint has arrived meanwhile. Thread-safe.
/// </summary>
internal sealed class PushQueue
{
    private const int RememberedCommits = 16;
    private const int RememberedChanges = 1000;

    private readonly CheckpointPush _push;
    private readonly PushQueueOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private readonly Queue<string> _committedFingerprints = new();
    private CancellationTokenSource _hurry = new();
    private Task? _running;
    private PushRequest? _current;
    private PushRequest? _pending;
    private int _drainers;

    public PushQueue(CheckpointPush push, PushQueueOptions? options = null)
    {
        _push = push;
        _options = options ?? new PushQueueOptions();
        _time = _options.TimeProvider;
    }

    /// <summary>The last checkpoint known to be in the store (pushed, or restored from it).</summary>
    public Checkpoint? LastCommitted { get; private set; }

    /// <summary>The highest step known to be in the store; older checkpoints are not pushed.</summary>
    public long? NewestCommittedStep { get; private set; }

    /// <summary>Checkpoints committed.</summary>
    public int Committed { get; private set; }

    /// <summary>Checkpoints abandoned because they changed while pushed.</summary>
    public int Abandoned { get; private set; }

    /// <summary>Failed attempts (each retry that fails counts).</summary>
    public int Failures { get; private set; }

    /// <summary>Waiting checkpoints replaced by newer ones before their push started.</summary>
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

    /// <summary>Offers a complete checkpoint of <paramref name="directory"/>; see <see cref="PushRequest.Accepted"/>.</summary>
    public PushRequest Offer(string directory, Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var request = new PushRequest(directory, checkpoint);
        PushRequest? replaced = null;
        lock (_gate)
        {
            var known = _committedFingerprints.Contains(checkpoint.Fingerprint) || checkpoint.Fingerprint == _current?.Checkpoint.Fingerprint
                || checkpoint.Fingerprint == _pending?.Checkpoint.Fingerprint || _changed.Contains(checkpoint.Fingerprint);
            if (_abort.IsCancellationRequested)
            {
                request.Complete(new PushOutcome(PushStatus.Cancelled));
                return request;
            }

            if (known || IsOlder(checkpoint, _current?.Checkpoint.Step, _pending?.Checkpoint.Step))
            {
                request.Complete(new PushOutcome(PushStatus.Refused));
                return request;
            }

            request.Accepted = true;
            if (_running is null)
            {
                _current = request;
                _running = Task.Run(() => RunAsync(request));
            }
            else
            {
                if (_pending is not null)
                {
                    Dropped++;
                    replaced = _pending;
                }

                _pending = request;
            }
        }

        replaced?.Complete(new PushOutcome(PushStatus.Replaced));
        return request;
    }

    /// <summary>
    /// Waits until nothing runs or waits, retrying a failing push <see cref="PushQueueOptions.DrainAttempts"/> times
    /// without its backoff's full wait; returns the error that kept the newest checkpoint out of the store, if one did.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; the pushes go on.</exception>
    public async Task<Exception?> DrainAsync(CancellationToken cancellationToken = default)
    {
        CancellationTokenSource hurry;
        lock (_gate)
        {
            _drainers++;
            hurry = _hurry;
        }

        try
        {
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
        finally
        {
            lock (_gate)
            {
                _drainers--;
            }
        }
    }

    /// <summary>
    /// Drains as <see cref="DrainAsync"/> does, but when <paramref name="deadline"/> passes or
    /// <paramref name="abandonWhen"/> fires first, abandons the push in flight (nothing partial is committed) and every
    /// later offer is refused.
    /// </summary>
    public async Task<DrainResult> DrainOrAbandonAsync(TimeSpan? deadline, CancellationToken abandonWhen = default)
    {
        using var limit = deadline is { } d ? new CancellationTokenSource(d, _time) : new CancellationTokenSource();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, abandonWhen);
        try
        {
            return new DrainResult(await DrainAsync(either.Token).ConfigureAwait(false), Abandoned: false);
        }
        catch (OperationCanceledException) when (either.IsCancellationRequested)
        {
            await AbandonAsync().ConfigureAwait(false);
            return new DrainResult(null, Abandoned: true);
        }
    }

    /// <summary>Abandons the push in flight (nothing partial is committed), drops the waiting one and refuses later offers.</summary>
    public async Task AbandonAsync()
    {
        PushRequest? dropped;
        lock (_gate)
        {
            dropped = _pending;
            _pending = null;
        }

        dropped?.Complete(new PushOutcome(PushStatus.Cancelled));
        await _abort.CancelAsync().ConfigureAwait(false);
    }

    private async Task RunAsync(PushRequest first)
    {
        var current = first;
        var attempts = 0;
        try
        {
            while (true)
            {
                Exception? failure = null;
                try
                {
                    var snapshot = await PushPinnedAsync(current).ConfigureAwait(false);
                    lock (_gate)
                    {
                        Remember(current.Checkpoint);
                        LastCommitted = current.Checkpoint;
                        NewestCommittedStep = Max(NewestCommittedStep, current.Checkpoint.Step);
                        Committed++;
                        LastError = null;
                    }

                    attempts = 0;
                    _options.Committed?.Invoke(current.Checkpoint, snapshot);
                    current.Complete(new PushOutcome(PushStatus.Committed, snapshot));
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    current.Complete(new PushOutcome(PushStatus.Cancelled));
                    Finish()?.Complete(new PushOutcome(PushStatus.Cancelled));
                    return;
                }
                catch (CheckpointChangedException e)
                {
                    lock (_gate)
                    {
                        Abandoned++;
                        if (_changed.Count > RememberedChanges)
                        {
                            _changed.Clear();
                        }

                        _changed.Add(current.Checkpoint.Fingerprint);
                    }

                    _options.Abandoned?.Invoke(current.Checkpoint, e);
                    current.Complete(new PushOutcome(PushStatus.Abandoned, Error: e));
                }
                catch (Exception e) when (e is BatonException or IOException or UnauthorizedAccessException)
                {
                    attempts++;
                    failure = e;
                    lock (_gate)
                    {
                        Failures++;
                        LastError = e;
                    }

                    _options.Failed?.Invoke(current.Checkpoint, e, attempts);
                }

                if (failure is not null && !await RetryAsync(current, attempts).ConfigureAwait(false))
                {
                    var status = _abort.IsCancellationRequested ? PushStatus.Cancelled : PushStatus.Failed;
                    current.Complete(new PushOutcome(status, Error: failure));
                    Finish()?.Complete(new PushOutcome(status, Error: failure));
                    return;
                }

                PushRequest? next;
                PushRequest? refused = null;
                lock (_gate)
                {
                    next = _pending;
                    _pending = null;
                    // A newer checkpoint may have been committed since this one was queued.
                    if (next is not null && IsOlder(next.Checkpoint))
                    {
                        refused = next;
                        next = null;
                    }

                    _current = next;
                    if (next is null)
                    {
                        _running = null;
                    }
                }

                if (failure is not null && next != current)
                {
                    // A newer checkpoint goes instead of the failing one; the failed one is given up.
                    current.Complete(new PushOutcome(PushStatus.Failed, Error: failure));
                }

                refused?.Complete(new PushOutcome(PushStatus.Refused));
                if (next is null)
                {
                    return;
                }

                if (next != current)
                {
                    attempts = 0;
                }

                current = next;
            }
        }
        catch (Exception e)
        {
            // An unexpected error (a bug, a throwing event sink): no request is left waiting forever, and the task stays
            // the running one, so that a drain rethrows it.
            PushRequest? pending;
            lock (_gate)
            {
                pending = _pending;
                _pending = null;
                _current = null;
                LastError = e;
            }

            current.Complete(new PushOutcome(PushStatus.Failed, Error: e));
            pending?.Complete(new PushOutcome(PushStatus.Failed, Error: e));
            throw;
        }
    }

    private async Task<Snapshot> PushPinnedAsync(PushRequest request)
    {
        // Read through hard links, so that the trainer may delete the checkpoint (keeping its last N) meanwhile.
        using var pin = CheckpointPin.TryCreate(request.Directory, request.Checkpoint);
        return await _push(pin?.Path ?? request.Directory, request.Checkpoint, _abort.Token).ConfigureAwait(false);
    }

    // Waits before a retry (cut short by a drain); leaves the failed checkpoint waiting unless a newer one is there.
    private async Task<bool> RetryAsync(PushRequest failed, int attempts)
    {
        CancellationToken hurry;
        lock (_gate)
        {
            if (_drainers > 0 && attempts >= _options.DrainAttempts)
            {
                return _pending is not null;
            }

            // A drain cut the last wait short; the next wait is a full one.
            if (_hurry.IsCancellationRequested)
            {
                _hurry = new CancellationTokenSource();
            }

            hurry = _hurry.Token;
        }

        var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(_options.MaxRetryDelay.Ticks, _options.FirstRetryDelay.Ticks * factor));
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(hurry, _abort.Token);
            await Task.Delay(delay, _time, linked.Token).ConfigureAwait(false);
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

    // Nothing runs any more; returns the request that was waiting, for the caller to complete.
    private PushRequest? Finish()
    {
        lock (_gate)
        {
            var pending = _pending;
            _running = null;
            _current = null;
            _pending = null;
            return pending;
        }
    }

    // Older than what the store holds, or than what is being pushed or waits: pushing it would move history backwards.
    private bool IsOlder(Checkpoint checkpoint, params long?[] others) =>
        checkpoint.Step is { } step && others.Append(NewestCommittedStep).Any(other => other is { } newer && step < newer);

    private void Remember(Checkpoint checkpoint)
    {
        _committedFingerprints.Enqueue(checkpoint.Fingerprint);
        while (_committedFingerprints.Count > RememberedCommits)
        {
            _committedFingerprints.Dequeue();
        }
    }

    private static long? Max(long? a, long? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
}
