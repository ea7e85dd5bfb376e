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

    /// <summary>
    /// A multi-node job attempt: the lease is the attempt's, shared by its nodes. The first node claims the epoch
    /// (recording the group, the node count and the step all nodes start from); the others join it.
    /// </summary>
    public string? GroupId { get; init; }

    /// <summary>How many nodes the attempt has (with <see cref="GroupId"/>).</summary>
    public int GroupNodes { get; init; } = 1;

    /// <summary>This node's rank (with <see cref="GroupId"/>); each node keeps its own heartbeat.</summary>
    public int GroupRank { get; init; }
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
    private readonly int _rank;
    private bool _released;
    private long _committed;

    private WriterLease(Repository repository, string run, long epoch, LeaseOptions options, string? tookOverFrom, LeaseClaim? claim = null, bool joined = false)
    {
        _repository = repository;
        _run = run;
        Epoch = epoch;
        TookOverFrom = tookOverFrom;
        Claim = claim;
        Joined = joined;
        _rank = options.GroupId is null ? 0 : options.GroupRank;
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

    /// <summary>The epoch's claim (a multi-node attempt's start step is in it).</summary>
    public LeaseClaim? Claim { get; }

    /// <summary>This node joined an epoch that another node of its group claimed.</summary>
    public bool Joined { get; }

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
            if (Join(repository, run, current, claim, options) is { } joined)
            {
                return joined;
            }

            var (beat, beatDamage) = await ReadRecordAsync(repository, HeartbeatKey(repository, run, current), LeaseJson.Default.LeaseHeartbeat, cancellationToken).ConfigureAwait(false);
            if (claim?.Group is not null)
            {
                // A multi-node attempt lives while any of its nodes beats; it is released when all of them released.
                (beat, var youngest) = await GroupHeartbeatAsync(repository, run, current, claim.Nodes ?? 1, cancellationToken).ConfigureAwait(false);
                if (youngest is { } nodeAge && beat is not { Released: true } && nodeAge < options.Timeout && !options.TakeOver)
                {
                    throw new ConflictException(
                        $"run '{run}' is held by job attempt '{claim.Group}' ({claim.Nodes} nodes, epoch {current}), last heartbeat {Age(nodeAge)} ago: use --take-over to fence it, or wait until its lease expires ({Age(options.Timeout - nodeAge)})");
                }
            }

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
        var start = options.GroupId is null ? null : (await repository.ReadHeadAsync(run, cancellationToken).ConfigureAwait(false)).Latest;
        var record = new LeaseClaim
        {
            Group = options.GroupId,
            Nodes = options.GroupId is null ? null : options.GroupNodes,
            StartSequence = start?.Sequence,
            StartStep = start?.Manifest.Step,
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
            // Two nodes of one attempt claiming at once: the loser joins the winner's epoch.
            var (winner, _) = await ReadRecordAsync(repository, ClaimKey(repository, run, epoch), LeaseJson.Default.LeaseClaim, cancellationToken).ConfigureAwait(false);
            return Join(repository, run, epoch, winner, options)
                ?? throw new ConflictException($"another writer claimed run '{run}' (epoch {epoch}) at the same moment: try again", e);
        }

        // No heartbeat yet: the claim's acquisition time stands for the first one (readers fall back to it), which
        // saves a durable write on every push.
        if (needsFence)
        {
            await repository.WriteFenceAsync(run, epoch, cancellationToken).ConfigureAwait(false);
        }

        return new WriterLease(repository, run, epoch, options, tookOverFrom, record);
    }

    // A node of the attempt that holds the current epoch joins it (also a node that comes back after its launcher
    // restarted); a node count that differs from the claim's is refused.
    private static WriterLease? Join(Repository repository, string run, long epoch, LeaseClaim? claim, LeaseOptions options)
    {
        if (options.GroupId is null || claim?.Group != options.GroupId)
        {
            return null;
        }

        if (claim.Nodes != options.GroupNodes)
        {
            throw new UsageException(
                $"job attempt '{options.GroupId}' of run '{run}' was started with {claim.Nodes} nodes, and this node says {options.GroupNodes}: give every node the same --nodes");
        }

        return new WriterLease(repository, run, epoch, options, null, claim, joined: true);
    }

    // The heartbeats of every node of a multi-node epoch: a released record when all its nodes released, and the age of
    // the youngest unreleased one by the store's clock (null when none could be aged).
    private static async Task<(LeaseHeartbeat? Beat, TimeSpan? Youngest)> GroupHeartbeatAsync(Repository repository, string run, long epoch, int nodes,
        CancellationToken cancellationToken)
    {
        var store = repository.Store;
        var prefix = HeartbeatKey(repository, run, epoch);
        var released = 0;
        var live = new List<string>();
        foreach (var info in await store.ListAllAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            var (beat, _) = await ReadRecordAsync(repository, info.Key, LeaseJson.Default.LeaseHeartbeat, cancellationToken).ConfigureAwait(false);
            if (beat is { Released: true })
            {
                released++;
            }
            else
            {
                live.Add(info.Key);
            }
        }

        if (live.Count == 0 && released >= nodes)
        {
            return (new LeaseHeartbeat { Epoch = epoch, Released = true }, null);
        }

        live.Add(ClaimKey(repository, run, epoch));
        TimeSpan? youngest = null;
        var probeKey = $"{repository.RunPrefix(run)}clock/{Guid.NewGuid():N}";
        await store.PutAsync(probeKey, ReadOnlyMemory<byte>.Empty, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
        try
        {
            var probe = await store.StatAsync(probeKey, cancellationToken).ConfigureAwait(false);
            foreach (var key in live)
            {
                if (probe is { } p && await store.StatAsync(key, cancellationToken).ConfigureAwait(false) is { } stat && StoreClock.AgeOf(stat, p) is { } age)
                {
                    youngest = youngest is { } y && y < age ? y : age;
                }
            }
        }
        finally
        {
            await store.DeleteAsync(probeKey, CancellationToken.None).ConfigureAwait(false);
        }

        return (null, youngest);
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
                await MetadataStore.WriteAsync(_repository, OwnHeartbeatKey,
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

    // Node 0 of a multi-node attempt (and every single-node writer) beats at the plain key; node R at EPOCH.R.
    private string OwnHeartbeatKey => RepositoryLayout.NodeHeartbeatKeyIn(_repository.RunPrefix(_run), Epoch, _rank);

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
                await MetadataStore.WriteAsync(_repository, OwnHeartbeatKey,
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
