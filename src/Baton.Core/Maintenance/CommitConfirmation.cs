using Baton.Packs;
using Baton.Repositories;

namespace Baton.Maintenance;

/// <summary>
/// What a push does after its manifest is committed and before it reports success, so that a garbage collection that
/// judged the push dead (it was paused, or the collection's view of time was wrong) cannot leave a committed snapshot
/// without its data unnoticed: wait until no live collection may be sweeping, then check once that every pack the
/// snapshot's chunks were found in still exists (docs/DESIGN.md, "Garbage collection").
/// </summary>
internal sealed class CommitConfirmation(Repository repository, InFlightMarker marker)
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromSeconds(1);

    // A sweep that copies live blobs out of many packs can run for a long time; past this the push gives up waiting.
    private static readonly TimeSpan s_maxWait = TimeSpan.FromHours(1);

    /// <summary>Returns once no live collection marker is left (a stale one does not count).</summary>
    /// <exception cref="BatonException">A collection stayed live for longer than the push waits.</exception>
    public async Task WaitForCollectionsAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        var time = repository.Options.TimeProvider;
        var started = time.GetTimestamp();
        while (true)
        {
            var live = await InFlightMarker.ListLiveAsync(repository, marker, cancellationToken).ConfigureAwait(false);
            if (!live.Any(r => r.Kind == InFlightRecord.CollectionKind))
            {
                return;
            }

            if (time.GetElapsedTime(started) > s_maxWait)
            {
                throw new BatonException(ErrorCategory.Failure,
                    $"snapshot {snapshot.Manifest.Sequence} of run '{snapshot.Run}' is committed, but a garbage collection kept running for {s_maxWait.TotalMinutes:0} minutes after it, so it could not be confirmed: run `baton check --read-data`");
            }

            await Task.Delay(s_pollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The chunks of <paramref name="manifest"/> whose pack (as <paramref name="packOf"/> knew it when the push wrote
    /// or deduplicated them) is missing from one listing of <c>packs/</c>, or that no pack was known for; and the delta
    /// chunks (<paramref name="baseOf"/>: chunk to base) whose base's pack is missing.
    /// </summary>
    public async Task<HashSet<ContentId>> FindLostChunksAsync(SnapshotManifest manifest, IReadOnlyDictionary<ContentId, ContentId> packOf,
        CancellationToken cancellationToken, IReadOnlyDictionary<ContentId, ContentId>? baseOf = null)
    {
        var existing = new HashSet<ContentId>();
        await foreach (var info in repository.Store.ListAsync(RepositoryLayout.DataPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (PackFormat.TryParseKey(info.Key, out var id))
            {
                existing.Add(id);
            }
        }

        var lost = new HashSet<ContentId>();
        foreach (var chunk in manifest.Entries.SelectMany(e => e.Chunks ?? []).Select(ContentId.Parse))
        {
            if (!packOf.TryGetValue(chunk, out var pack) || !existing.Contains(pack)
                || (baseOf?.TryGetValue(chunk, out var baseId) == true && (!packOf.TryGetValue(baseId, out var basePack) || !existing.Contains(basePack))))
            {
                lost.Add(chunk);
            }
        }

        return lost;
    }

    /// <summary>The error of a committed snapshot whose data could not be stored again.</summary>
    public static IntegrityException Lost(Snapshot snapshot, Exception? inner = null) => new(
        $"snapshot {snapshot.Manifest.Sequence} of run '{snapshot.Run}' lost data to a concurrent prune while this push was paused; run `baton repair` then push again",
        inner);
}
