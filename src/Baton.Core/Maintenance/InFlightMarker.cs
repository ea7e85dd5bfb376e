using Baton.Leases;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Maintenance;

/// <summary>
/// Announces a running push (or a garbage collection about to sweep) in <c>inflight/</c> and keeps its heartbeat fresh
/// until disposed. Garbage collection sweeps nothing while a live push marker exists, and a push does not report
/// success while a live collection marker exists (<see cref="CommitConfirmation"/>). Liveness is judged by the store's
/// clock (<see cref="StoreClock"/>), never by comparing a client's clock with another's.
/// </summary>
public sealed class InFlightMarker : IAsyncDisposable
{
    /// <summary>Prefix of marker objects.</summary>
    public const string Prefix = RepositoryLayout.InFlightPrefix;

    /// <summary>A push marker not rewritten for this long (by the store's clock) belongs to a dead process and is ignored.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A collection marker not rewritten for this long (by the store's clock) is ignored, and deleted by whoever finds it.
    /// Short, so that a killed prune holds up the pushes waiting on it for well under a minute.
    /// </summary>
    public static readonly TimeSpan CollectionTimeout = TimeSpan.FromSeconds(40);

    private static readonly TimeSpan s_heartbeatInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_collectionHeartbeatInterval = TimeSpan.FromSeconds(10);

    private readonly Repository _repository;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly PeriodicTimer _beat;
    private readonly Task _heartbeat;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private InFlightRecord _record;
    private long _lastBeat;
    private volatile bool _expired;

    private InFlightMarker(Repository repository, TimeProvider time, InFlightRecord record, long written)
    {
        _repository = repository;
        _time = time;
        _record = record;
        _lastBeat = written;
        _beat = new PeriodicTimer(IsCollection ? s_collectionHeartbeatInterval : s_heartbeatInterval, time);
        _heartbeat = BeatAsync();
    }

    /// <summary>The marker's id (its object is <c>inflight/ID</c>).</summary>
    public string Id => _record.Id;

    private string Key => RepositoryLayout.InFlightKey(_record.Id);

    private bool IsCollection => _record.Kind == InFlightRecord.CollectionKind;

    /// <summary>Writes the marker of a push to <paramref name="run"/> and starts its heartbeat.</summary>
    public static Task<InFlightMarker> BeginAsync(Repository repository, string run, CancellationToken cancellationToken = default) =>
        BeginAsync(repository, run, kind: null, cancellationToken);

    /// <summary>Writes the marker of a garbage collection about to sweep (and write packs) and starts its heartbeat.</summary>
    public static Task<InFlightMarker> BeginCollectionAsync(Repository repository, CancellationToken cancellationToken = default) =>
        BeginAsync(repository, "", InFlightRecord.CollectionKind, cancellationToken);

    private static async Task<InFlightMarker> BeginAsync(Repository repository, string run, string? kind, CancellationToken cancellationToken)
    {
        var time = repository.Options.TimeProvider;
        var now = time.GetUtcNow();
        var self = Platform.ProcessIdentity.Current;
        var record = new InFlightRecord
        {
            Id = Guid.NewGuid().ToString("N"),
            Run = run,
            Kind = kind,
            Host = repository.Options.HostName,
            ProcessId = Environment.ProcessId,
            BootId = self.BootId,
            PidNamespace = self.PidNamespace,
            ProcessStart = self.StartTime,
            Started = now,
            Heartbeat = now,
        };
        var before = time.GetTimestamp();
        await MetadataStore.WriteAsync(repository, RepositoryLayout.InFlightKey(record.Id), record, MaintenanceJson.Default.InFlightRecord, PutMode.Overwrite, cancellationToken)
            .ConfigureAwait(false);
        return new InFlightMarker(repository, time, record, before);
    }

    /// <summary>The timeout of a marker of this kind.</summary>
    public static TimeSpan TimeoutOf(InFlightRecord record) => record.Kind == InFlightRecord.CollectionKind ? CollectionTimeout : Timeout;

    /// <summary>
    /// Lists the live markers other than <paramref name="judge"/>'s own. The judge rewrites its own marker first and
    /// measures every other marker's age against it, so both times come from the store's clock; where the store
    /// reports no modification times, the recorded heartbeat is compared with this machine's clock instead. A marker is
    /// live while its age is under its kind's timeout, unless it was written by a process of this machine and pid
    /// namespace that no longer exists. Collection markers found stale are deleted, so that a paused collection that
    /// resumes finds its marker gone and stops.
    /// </summary>
    public static async Task<IReadOnlyList<InFlightRecord>> ListLiveAsync(Repository repository, InFlightMarker judge, CancellationToken cancellationToken = default)
    {
        await judge.BeatNowAsync(cancellationToken).ConfigureAwait(false);
        var infos = await repository.Store.ListAllAsync(Prefix, cancellationToken).ConfigureAwait(false);
        var reference = infos.FirstOrDefault(i => i.Key == judge.Key);
        if (reference.Key is null)
        {
            reference = await repository.Store.StatAsync(judge.Key, cancellationToken).ConfigureAwait(false) ?? default;
        }

        var now = repository.Options.TimeProvider.GetUtcNow();
        var live = new List<InFlightRecord>();
        foreach (var info in infos.Where(i => i.Key != judge.Key))
        {
            InFlightRecord? record;
            try
            {
                record = await MetadataStore.TryReadAsync(repository, info.Key, MaintenanceJson.Default.InFlightRecord, cancellationToken).ConfigureAwait(false);
            }
            catch (IntegrityException)
            {
                record = null; // a torn marker from a crashed writer on a store without atomic writes
            }

            if (record is null)
            {
                continue;
            }

            var age = (reference.Key is null ? null : StoreClock.AgeOf(info, reference)) ?? now - record.Heartbeat;
            var gone = Platform.LocalProcess.IsGone(record.Host, record.ProcessId, record.BootId, record.PidNamespace, record.ProcessStart,
                repository.Options.HostName);
            if (age < TimeoutOf(record) && !gone)
            {
                live.Add(record);
            }
            else if (record.Kind == InFlightRecord.CollectionKind)
            {
                await DeleteQuietlyAsync(repository, info.Key).ConfigureAwait(false);
            }
        }

        return live;
    }

    /// <summary>
    /// For a collection about to delete: throws unless its last successful heartbeat is recent by this process's own
    /// monotonic clock (under half the timeout, so no one can have judged it stale yet) and its marker still exists (no
    /// one has judged it stale and removed it, as happens when a suspended machine's monotonic clock stood still).
    /// </summary>
    /// <exception cref="ConflictException">The collection was paused long enough that others may have judged it dead.</exception>
    public async Task EnsureAliveAsync(CancellationToken cancellationToken)
    {
        var since = _time.GetElapsedTime(Interlocked.Read(ref _lastBeat));
        if (_expired || since >= TimeoutOf(_record) / 2)
        {
            _expired = true;
            throw Expired($"it was not heard from for {(int)since.TotalSeconds}s");
        }

        if (await _repository.Store.StatAsync(Key, cancellationToken).ConfigureAwait(false) is null)
        {
            _expired = true;
            throw Expired("its marker was removed as stale");
        }
    }

    private static ConflictException Expired(string why) =>
        new($"this garbage collection stopped without deleting more: {why}, so another process may have judged it dead and relied on that; run prune again");

    /// <summary>Rewrites the marker now (used by a judge before it compares ages).</summary>
    internal async Task BeatNowAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A collection that went unheard for too long, or whose marker was removed as stale, must not bring the
            // marker back: others may already have acted on its absence. The beat counts from before these checks: a
            // pause after them (a push meanwhile removes the marker, and the write below brings it back) then shows as
            // a beat that long ago, and EnsureAliveAsync stops the collection.
            var checkedAt = _time.GetTimestamp();
            if (IsCollection && (_expired || _time.GetElapsedTime(Interlocked.Read(ref _lastBeat), checkedAt) >= TimeoutOf(_record) / 2
                || await _repository.Store.StatAsync(Key, cancellationToken).ConfigureAwait(false) is null))
            {
                _expired = true;
                throw Expired("it was paused");
            }

            _record = _record with { Heartbeat = _time.GetUtcNow() };
            await MetadataStore.WriteAsync(_repository, Key, _record, MaintenanceJson.Default.InFlightRecord, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _lastBeat, checkedAt);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Stops the heartbeat and removes the marker.</summary>
    public async ValueTask DisposeAsync()
    {
        // Disposing the timer ends the loop without an exception (a cancelled timer wait costs a stack trace
        // symbolization, a noticeable part of a short push); the cancellation stops a beat in flight.
        _beat.Dispose();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _heartbeat.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await DeleteQuietlyAsync(_repository, Key).ConfigureAwait(false);
        _stop.Dispose();
        _writing.Dispose();
    }

    private static async Task DeleteQuietlyAsync(Repository repository, string key)
    {
        try
        {
            await repository.Store.DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreException)
        {
            // The marker goes stale by itself; a failed delete only delays others.
        }
    }

    private async Task BeatAsync()
    {
        while (await _beat.WaitForNextTickAsync().ConfigureAwait(false))
        {
            try
            {
                await BeatNowAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (ConflictException)
            {
                return; // an expired collection stays silent; EnsureAliveAsync stops it before its next delete
            }
            catch (StoreException)
            {
                // Missing one heartbeat is harmless: the timeout spans several of them.
            }
        }
    }
}
