using Baton.Repositories;
using Baton.Storage;

namespace Baton.Maintenance;

/// <summary>
/// Announces a running push in <c>inflight/</c> and keeps its heartbeat fresh until disposed. Garbage collection
/// sweeps nothing while a live marker exists, so a push never commits a snapshot whose data was deleted under it.
/// </summary>
public sealed class InFlightMarker : IAsyncDisposable
{
    /// <summary>Prefix of marker objects.</summary>
    public const string Prefix = "inflight/";

    /// <summary>A marker whose heartbeat is older than this belongs to a dead process and is ignored.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan s_heartbeatInterval = TimeSpan.FromMinutes(1);

    private readonly Repository _repository;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _heartbeat;
    private InFlightRecord _record;

    private InFlightMarker(Repository repository, TimeProvider time, InFlightRecord record)
    {
        _repository = repository;
        _time = time;
        _record = record;
        _heartbeat = BeatAsync();
    }

    /// <summary>The marker's id (its object is <c>inflight/ID</c>).</summary>
    public string Id => _record.Id;

    private string Key => Prefix + _record.Id;

    /// <summary>Writes the marker of a push to <paramref name="run"/> and starts its heartbeat.</summary>
    public static Task<InFlightMarker> BeginAsync(Repository repository, string run, CancellationToken cancellationToken = default) =>
        BeginAsync(repository, run, kind: null, cancellationToken);

    /// <summary>Writes the marker of a garbage collection about to sweep (and write packs) and starts its heartbeat.</summary>
    public static Task<InFlightMarker> BeginCollectionAsync(Repository repository, CancellationToken cancellationToken = default) =>
        BeginAsync(repository, "", InFlightRecord.CollectionKind, cancellationToken);

    private static async Task<InFlightMarker> BeginAsync(Repository repository, string run, string? kind, CancellationToken cancellationToken)
    {
        var now = repository.Options.TimeProvider.GetUtcNow();
        var record = new InFlightRecord
        {
            Id = Guid.NewGuid().ToString("N"),
            Run = run,
            Kind = kind,
            Host = repository.Options.HostName,
            ProcessId = Environment.ProcessId,
            Started = now,
            Heartbeat = now,
        };
        await MetadataStore.WriteAsync(repository, Prefix + record.Id, record, MaintenanceJson.Default.InFlightRecord, PutMode.Overwrite, cancellationToken)
            .ConfigureAwait(false);
        return new InFlightMarker(repository, repository.Options.TimeProvider, record);
    }

    /// <summary>Lists the markers whose heartbeat is recent.</summary>
    public static async Task<IReadOnlyList<InFlightRecord>> ListLiveAsync(Repository repository, CancellationToken cancellationToken = default)
    {
        var now = repository.Options.TimeProvider.GetUtcNow();
        var live = new List<InFlightRecord>();
        foreach (var info in await repository.Store.ListAllAsync(Prefix, cancellationToken).ConfigureAwait(false))
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

            if (record is not null && now - record.Heartbeat < Timeout
                && !Platform.LocalProcess.IsGone(record.Host, record.ProcessId, repository.Options.HostName))
            {
                live.Add(record);
            }
        }

        return live;
    }

    /// <summary>Stops the heartbeat and removes the marker.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _heartbeat.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            await _repository.Store.DeleteAsync(Key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreException)
        {
            // The marker goes stale by itself; a failed delete only delays garbage collection.
        }

        _stop.Dispose();
    }

    private async Task BeatAsync()
    {
        using var timer = new PeriodicTimer(s_heartbeatInterval, _time);
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
        {
            _record = _record with { Heartbeat = _time.GetUtcNow() };
            try
            {
                await MetadataStore.WriteAsync(_repository, Key, _record, MaintenanceJson.Default.InFlightRecord, PutMode.Overwrite, _stop.Token).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                // Missing one heartbeat is harmless: the timeout is ten of them.
            }
        }
    }
}
