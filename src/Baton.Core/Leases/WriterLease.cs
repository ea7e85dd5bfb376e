using System.Globalization;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Leases;

/// <summary>How a writer lease is taken and kept.</summary>
public sealed record LeaseOptions
{
    /// <summary>Fence a live holder instead of giving up.</summary>
    public bool TakeOver { get; init; }

    /// <summary>
    /// A holder whose heartbeat is older than this, by the store's clock, is presumed dead (a preempted machine never
    /// releases). Short, so that the next machine starts soon: a holder wrongly presumed dead is fenced by the epochs
    /// and cannot commit after its successor (docs/DESIGN.md, "One writer per run").
    /// </summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>The default <see cref="Timeout"/>; the holder rewrites its heartbeat four times within it.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Who holds the lease, for messages (e.g. "baton run, leg 3").</summary>
    public string Holder { get; init; } = "baton";
}

/// <summary>
/// The right to make history in one run. Each writer claims the next epoch with a create-if-absent write of
/// <c>runs/RUN/epochs/EPOCH</c>, so two machines cannot both hold the same epoch; every commit carries the epoch, and
/// a writer whose epoch has been superseded cannot commit (<see cref="ConflictException"/>, exit 5). When the
/// previous holder did not release its lease (it was preempted, or fenced with take-over), the new holder also
/// writes a fence into the run's sequence of manifests, so that a paused "zombie" writer that wakes up can never
/// commit after it.
/// </summary>
public sealed class WriterLease : IAsyncDisposable
{
    private readonly Repository _repository;
    private readonly string _run;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly PeriodicTimer _beat;
    private readonly Task _heartbeat;
    private bool _released;
    private long _committed;

    private WriterLease(Repository repository, string run, long epoch, LeaseOptions options, string? tookOverFrom)
    {
        _repository = repository;
        _run = run;
        Epoch = epoch;
        TookOverFrom = tookOverFrom;
        _beat = new PeriodicTimer(options.Timeout / 4, repository.Options.TimeProvider);
        _heartbeat = BeatAsync();
    }

    /// <summary>This writer's epoch.</summary>
    public long Epoch { get; }

    /// <summary>The run.</summary>
    public string Run => _run;

    /// <summary>Whether the store enforces create-if-absent; when false the lease is advisory only.</summary>
    public bool IsEnforced => _repository.Store.Capabilities.AtomicCreate;

    /// <summary>A description of the holder this lease took over from (stale or fenced), if any.</summary>
    public string? TookOverFrom { get; }

    /// <summary>Cancelled when another writer fences this one; the holder should stop making history.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Claims the next epoch of <paramref name="run"/>.</summary>
    /// <exception cref="ConflictException">A live writer holds the run (and take-over was not asked for), or another
    /// machine claimed the same epoch at the same moment.</exception>
    public static async Task<WriterLease> AcquireAsync(Repository repository, string run, LeaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LeaseOptions();
        RepositoryLayout.ValidateRunName(run);
        var store = repository.Store;
        var now = repository.Options.TimeProvider.GetUtcNow();
        var current = await CurrentEpochAsync(repository, run, cancellationToken).ConfigureAwait(false);
        string? tookOverFrom = null;
        var needsFence = false;
        if (current > 0)
        {
            var (claim, claimDamage) = await ReadRecordAsync(repository, ClaimKey(repository, run, current), LeaseJson.Default.LeaseClaim, cancellationToken).ConfigureAwait(false);
            var (beat, beatDamage) = await ReadRecordAsync(repository, HeartbeatKey(repository, run, current), LeaseJson.Default.LeaseHeartbeat, cancellationToken).ConfigureAwait(false);
            var damage = beat is null ? beatDamage ?? claimDamage : null;
            RefuseDamagedUnlessTakingOver(run, damage, options);
            var who = claim is null ? $"epoch {current}" : $"{claim.Holder} on {claim.Host} (pid {claim.ProcessId}, epoch {current})";
            var gone = claim is not null && Platform.LocalProcess.IsGone(claim.Host, claim.ProcessId, claim.BootId, claim.PidNamespace, claim.ProcessStart,
                repository.Options.HostName);
            if (beat is not { Released: true })
            {
                var age = await HeartbeatAgeAsync(repository, run, current, cancellationToken).ConfigureAwait(false)
                    ?? now - (beat?.Time ?? claim?.Acquired ?? DateTimeOffset.MinValue);
                if (age < options.Timeout && !options.TakeOver && !gone)
                {
                    throw new ConflictException(
                        $"run '{run}' is held by {who}, last heartbeat {Age(age)} ago: use --take-over to fence it, or wait until its lease expires ({Age(options.Timeout - age)})");
                }

                tookOverFrom = damage is not null ? $"{who}, whose lease record is damaged" : gone ? $"{who}, which is no longer running" : $"{who}, last heartbeat {Age(age)} ago";
                needsFence = true;
            }
        }

        var epoch = current + 1;
        var record = new LeaseClaim
        {
            Epoch = epoch,
            Host = repository.Options.HostName,
            ProcessId = Environment.ProcessId,
            BootId = Platform.ProcessIdentity.Current.BootId,
            PidNamespace = Platform.ProcessIdentity.Current.PidNamespace,
            ProcessStart = Platform.ProcessIdentity.Current.StartTime,
            Holder = options.Holder,
            Acquired = now,
        };
        try
        {
            await MetadataStore.WriteAsync(repository, ClaimKey(repository, run, epoch), record, LeaseJson.Default.LeaseClaim, PutMode.CreateNew, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.AlreadyExists)
        {
            throw new ConflictException($"another writer claimed run '{run}' (epoch {epoch}) at the same moment: try again", e);
        }

        // No heartbeat yet: the claim's acquisition time stands for the first one (readers fall back to it), which
        // saves a durable write on every push.
        if (needsFence)
        {
            await repository.WriteFenceAsync(run, epoch, cancellationToken).ConfigureAwait(false);
        }

        return new WriterLease(repository, run, epoch, options, tookOverFrom);
    }

    /// <summary>Throws when a newer epoch exists: this writer has been fenced and must not commit.</summary>
    /// <exception cref="ConflictException">This writer was fenced.</exception>
    public async Task EnsureCurrentAsync(CancellationToken cancellationToken = default)
    {
        var current = await CurrentEpochAsync(_repository, _run, cancellationToken).ConfigureAwait(false);
        if (current != Epoch)
        {
            await _lost.CancelAsync().ConfigureAwait(false);
            var (claim, _) = await ReadRecordAsync(_repository, ClaimKey(_repository, _run, current), LeaseJson.Default.LeaseClaim, cancellationToken).ConfigureAwait(false);
            throw new ConflictException(
                $"this writer (epoch {Epoch}) was fenced: run '{_run}' was taken over by {claim?.Holder ?? "another writer"} on {claim?.Host ?? "another host"} (epoch {current}); nothing more is committed from here");
        }
    }

    private long? CommittedOrNull => Interlocked.Read(ref _committed) is var n and > 0 ? n : null;

    /// <summary>Notes a snapshot this writer committed; the next heartbeat and the release record it.</summary>
    internal void RecordCommitted(long sequence)
    {
        for (var seen = Interlocked.Read(ref _committed); seen < sequence; seen = Interlocked.Read(ref _committed))
        {
            if (Interlocked.CompareExchange(ref _committed, sequence, seen) == seen)
            {
                return;
            }
        }
    }

    /// <summary>Releases the lease so that the next writer need not wait for it to expire.</summary>
    public async ValueTask DisposeAsync()
    {
        // Disposing the timer ends the heartbeat loop without an exception (a cancelled timer wait costs a stack
        // trace symbolization, a noticeable part of a short push); the cancellation stops a beat in flight.
        _beat.Dispose();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _heartbeat.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (!_released && !_lost.IsCancellationRequested)
        {
            _released = true;
            try
            {
                await MetadataStore.WriteAsync(_repository, HeartbeatKey(_repository, _run, Epoch),
                    new LeaseHeartbeat { Epoch = Epoch, Time = _repository.Options.TimeProvider.GetUtcNow(), Released = true, Committed = CommittedOrNull },
                    LeaseJson.Default.LeaseHeartbeat, PutMode.Overwrite, CancellationToken.None).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                // The lease then expires by itself after its timeout.
            }
        }

        _stop.Dispose();
        _lost.Dispose();
    }

    internal static string ClaimKey(Repository repository, string run, long epoch) => RepositoryLayout.EpochKeyIn(repository.RunPrefix(run), epoch);

    internal static string HeartbeatKey(Repository repository, string run, long epoch) => RepositoryLayout.HeartbeatKeyIn(repository.RunPrefix(run), epoch);

    private static async Task<long> CurrentEpochAsync(Repository repository, string run, CancellationToken cancellationToken)
    {
        long current = 0;
        var prefix = RepositoryLayout.EpochsIn(repository.RunPrefix(run));
        await foreach (var info in repository.Store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (long.TryParse(info.Key.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch))
            {
                current = Math.Max(current, epoch);
            }
        }

        return current;
    }

    // The age of the holder's last heartbeat (or of its claim, before its first heartbeat) by the store's clock: a probe
    // written now and the heartbeat are both stamped by the store, so no client clock enters the verdict. Null when
    // the store reports no modification times (the recorded times are compared with this machine's clock then).
    private static async Task<TimeSpan?> HeartbeatAgeAsync(Repository repository, string run, long epoch, CancellationToken cancellationToken)
    {
        var store = repository.Store;
        var last = await store.StatAsync(HeartbeatKey(repository, run, epoch), cancellationToken).ConfigureAwait(false)
            ?? await store.StatAsync(ClaimKey(repository, run, epoch), cancellationToken).ConfigureAwait(false);
        if (last?.LastModified is null)
        {
            return null;
        }

        var probeKey = RepositoryLayout.ClockProbeKeyIn(repository.RunPrefix(run), Guid.NewGuid().ToString("N"));
        await store.PutAsync(probeKey, ReadOnlyMemory<byte>.Empty, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
        try
        {
            return await store.StatAsync(probeKey, cancellationToken).ConfigureAwait(false) is { } probe ? StoreClock.AgeOf(last.Value, probe) : null;
        }
        finally
        {
            await store.DeleteAsync(probeKey, CancellationToken.None).ConfigureAwait(false);
        }
    }

    // A damaged lease object says nothing about its holder; it must neither lock the run for ever nor be mistaken for
    // a released lease. The caller treats a damaged record as missing.
    private static async Task<(T? Record, IntegrityException? Damage)> ReadRecordAsync<T>(
        Repository repository, string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return (await MetadataStore.TryReadAsync(repository, key, type, cancellationToken).ConfigureAwait(false), null);
        }
        catch (IntegrityException e)
        {
            return (null, e);
        }
    }

    // When the damage hides whether the holder lives (no readable heartbeat), only take-over may go past it.
    private static void RefuseDamagedUnlessTakingOver(string run, IntegrityException? damage, LeaseOptions options)
    {
        if (damage is not null && !options.TakeOver)
        {
            throw new IntegrityException(
                $"cannot tell whether run '{run}' is held: {damage.Message}; use --take-over to fence its writer and continue past the damaged object", damage);
        }
    }

    private static string Age(TimeSpan age) => age.TotalSeconds < 120
        ? $"{Math.Max(0, (int)age.TotalSeconds)}s"
        : age.TotalMinutes < 120 ? $"{(int)age.TotalMinutes}m" : $"{(int)age.TotalHours}h";

    private async Task BeatAsync()
    {
        while (await _beat.WaitForNextTickAsync().ConfigureAwait(false))
        {
            try
            {
                await EnsureCurrentAsync(_stop.Token).ConfigureAwait(false);
                await MetadataStore.WriteAsync(_repository, HeartbeatKey(_repository, _run, Epoch),
                    new LeaseHeartbeat { Epoch = Epoch, Time = _repository.Options.TimeProvider.GetUtcNow(), Committed = CommittedOrNull },
                    LeaseJson.Default.LeaseHeartbeat, PutMode.Overwrite, _stop.Token).ConfigureAwait(false);
            }
            catch (ConflictException)
            {
                return; // fenced: Lost is cancelled; the holder stops.
            }
            catch (StoreException)
            {
                // A missed heartbeat is harmless: the timeout spans several of them.
            }
        }
    }
}
