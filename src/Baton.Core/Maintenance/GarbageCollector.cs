using Baton.Index;
using Baton.Packs;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Maintenance;

/// <summary>
/// Deletes packs that no committed snapshot references and rewrites packs that are mostly garbage, in two phases so
/// that a concurrent push can never lose data:
/// <list type="number">
/// <item>Mark: unreferenced packs, and packs worth repacking (<see cref="RepackPolicy"/>), are listed in a
/// <c>gc/ID</c> object. Pushes that start afterwards treat chunks in marked packs as absent and upload them again.</item>
/// <item>Sweep: once no push or other collection is in flight (no live <see cref="InFlightMarker"/> but its own), the
/// live blobs of marked packs are copied into new packs, a new index object naming the new packs and without the
/// doomed ones is written, then the old index objects are deleted, then the doomed packs, then the marks.</item>
/// </list>
/// Every step leaves a healthy repository if the process is killed between steps, and a collection that finds itself
/// paused for too long stops before its next delete (docs/DESIGN.md).
/// </summary>
/// <param name="repository">The opened repository to work on.</param>
/// <param name="repack">Which partly dead packs are worth rewriting; <c>null</c>: <see cref="RepackPolicy.Default"/>.</param>
public sealed class GarbageCollector(Repository repository, RepackPolicy? repack = null)
{
    /// <summary>Prefix of mark objects.</summary>
    public const string Prefix = RepositoryLayout.GcPrefix;

    private readonly RepackPolicy _policy = repack ?? RepackPolicy.Default;

    /// <summary>Receives progress while marked packs are deleted (bytes and packs deleted); reported after each pack.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>Runs a collection. With <paramref name="dryRun"/> nothing is written or deleted.</summary>
    /// <exception cref="IntegrityException">A manifest or index object, or a blob being repacked, is corrupt: nothing is
    /// deleted when in doubt.</exception>
    public async Task<CollectionResult> CollectAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var referenced = await ReferencedChunksAsync(cancellationToken).ConfigureAwait(false);
        var indexFiles = await repository.ReadAllIndexFilesAsync(cancellationToken).ConfigureAwait(false);
        AddDeltaBases(referenced, indexFiles);
        var packSizes = await PackSizesAsync(cancellationToken).ConfigureAwait(false);
        var usage = PackUsage.Measure(indexFiles.Values, referenced).Where(u => packSizes.ContainsKey(u.Id)).ToList();
        var live = usage.Where(u => u.LiveBlobs > 0).Select(u => u.Id).ToHashSet();
        var unreferenced = packSizes.Keys.Where(p => !live.Contains(p)).ToHashSet();
        var toRepack = _policy.Choose(usage, repository.Config.PackSize);
        if (dryRun)
        {
            return new CollectionResult
            {
                PacksCondemned = unreferenced.Count,
                BytesPending = unreferenced.Sum(p => packSizes[p]),
                PacksToRepack = toRepack.Count,
                BytesToReclaim = usage.Where(u => toRepack.Contains(u.Id)).Sum(u => u.Reclaimable),
                Deferred = "dry run",
            };
        }

        var marks = await ReadMarksAsync(cancellationToken).ConfigureAwait(false);
        var alreadyMarked = marks.SelectMany(m => m.Packs).Select(ContentId.Parse).ToHashSet();
        var toMark = unreferenced.Concat(toRepack).Where(p => !alreadyMarked.Contains(p)).Distinct().Order().ToList();
        if (toMark.Count > 0)
        {
            var now = repository.Options.TimeProvider.GetUtcNow();
            var mark = new CondemnedPacks
            {
                Id = $"{now:yyyyMMddTHHmmss}-{Guid.NewGuid():N}"[..32],
                Created = now,
                Packs = toMark.Select(p => p.ToString()).ToList(),
                Repack = toMark.Where(toRepack.Contains).Select(p => p.ToString()).ToList() is { Count: > 0 } r ? r : null,
            };
            await MetadataStore.WriteAsync(repository, RepositoryLayout.GcKey(mark.Id), mark, MaintenanceJson.Default.CondemnedPacks, PutMode.CreateNew, cancellationToken)
                .ConfigureAwait(false);
            marks.Add(mark);
        }

        var pending = marks.SelectMany(m => m.Packs).Select(ContentId.Parse).Where(packSizes.ContainsKey).ToHashSet();
        var repackMarked = marks.SelectMany(m => m.Repack ?? []).Select(ContentId.Parse).Where(pending.Contains).ToHashSet();
        if (pending.Count == 0)
        {
            await DeleteMarksAsync(marks, cancellationToken).ConfigureAwait(false); // they name only packs already gone
            return new CollectionResult();
        }

        // Only after the mark is durable may we look for pushes: one that starts later sees the mark. Our own marker
        // keeps other collections from sweeping while we write packs they have never seen.
        await using var self = await InFlightMarker.BeginCollectionAsync(repository, cancellationToken).ConfigureAwait(false);
        var inFlight = (await InFlightMarker.ListLiveAsync(repository, self, cancellationToken).ConfigureAwait(false)).ToList();
        if (inFlight.Count > 0)
        {
            var condemned = pending.Where(p => !repackMarked.Contains(p)).ToList();
            return new CollectionResult
            {
                PacksCondemned = condemned.Count,
                BytesPending = condemned.Sum(p => packSizes[p]),
                PacksToRepack = repackMarked.Count,
                BytesToReclaim = usage.Where(u => repackMarked.Contains(u.Id)).Sum(u => u.Reclaimable),
                Deferred = DescribeInFlight(inFlight.OrderBy(r => r.Started).First()),
            };
        }

        // Re-read what is referenced now: a push that started before the mark may have committed since.
        referenced = await ReferencedChunksAsync(cancellationToken).ConfigureAwait(false);
        indexFiles = await repository.ReadAllIndexFilesAsync(cancellationToken).ConfigureAwait(false);
        AddDeltaBases(referenced, indexFiles);
        var plan = PlanSweep(indexFiles, referenced, pending, repackMarked);
        var copied = plan.Sources.Count > 0
            ? await new Repacker(repository).CopyAsync(plan.Sources, cancellationToken).ConfigureAwait(false)
            : new RepackOutcome([], 0);

        // A new pack can be byte for byte a marked one (an earlier repack killed before its index): it stays.
        var doomed = pending.Where(p => !plan.Kept.Contains(p) && !copied.Packs.Any(n => n.Id == p.ToString())).ToHashSet();
        await SweepAsync(self, indexFiles, doomed, copied.Packs, packSizes, cancellationToken).ConfigureAwait(false);
        await DeleteMarksAsync(marks, cancellationToken).ConfigureAwait(false);
        var rewritten = doomed.Where(plan.Rewritten.Contains).ToList();
        var deleted = doomed.Where(p => !plan.Rewritten.Contains(p)).ToList();
        return new CollectionResult
        {
            PacksDeleted = deleted.Count,
            BytesFreed = deleted.Sum(p => packSizes[p]),
            PacksRepacked = rewritten.Count,
            PacksWritten = copied.Packs.Count,
            BytesCopied = copied.BytesCopied,
            BytesReclaimed = Math.Max(0, rewritten.Sum(p => packSizes[p]) - copied.BytesWritten),
        };
    }

    /// <summary>Pack ids named in marks: pushes must not reuse their chunks.</summary>
    public async Task<IReadOnlySet<ContentId>> MarkedPacksAsync(CancellationToken cancellationToken = default) =>
        (await ReadMarksAsync(cancellationToken).ConfigureAwait(false)).SelectMany(m => m.Packs).Select(ContentId.Parse).ToHashSet();

    /// <summary>
    /// The index a writer may deduplicate against: packs that garbage collection has marked for deletion are left
    /// out, so their chunks are stored again instead of being referenced from a pack about to disappear; and the
    /// store's packs are listed once, so that a writer asks <see cref="MasterIndex.IsStored"/> and stores again the
    /// chunks of packs that are gone.
    /// </summary>
    internal async Task<MasterIndex> LoadIndexForWritingAsync(CancellationToken cancellationToken)
    {
        var marked = await MarkedPacksAsync(cancellationToken).ConfigureAwait(false);
        return await repository.LoadIndexExcludingAsync(marked, cancellationToken).ConfigureAwait(false);
    }

    private static string DescribeInFlight(InFlightRecord record) => record.Kind == InFlightRecord.CollectionKind
        ? $"another garbage collection by {record.Host} (started {record.Started:u}) is running; a later prune finishes the work"
        : $"a push of run '{record.Run}' by {record.Host} (started {record.Started:u}) is in flight; a later prune deletes the marked packs";

    /// <summary>
    /// Which marked packs go and which blobs must be copied out of them first. A marked pack whose chunks a snapshot
    /// still needs (and no unmarked pack holds) is repacked when it is mostly garbage now, or small and marked for a
    /// merge; otherwise (a push that started before the mark has referenced it since) it is kept.
    /// </summary>
    private SweepPlan PlanSweep(IReadOnlyDictionary<string, IndexFile> indexFiles, HashSet<ContentId> referenced, HashSet<ContentId> pending,
        HashSet<ContentId> repackMarked)
    {
        var packs = indexFiles.Values.SelectMany(f => f.Packs).DistinctBy(p => p.Id, StringComparer.Ordinal).ToDictionary(p => ContentId.Parse(p.Id));
        var covered = packs.Where(p => !pending.Contains(p.Key)).SelectMany(p => p.Value.Blobs).Select(b => ContentId.Parse(b.Id)).ToHashSet();
        var needed = new Dictionary<ContentId, List<IndexedBlob>>();
        var plan = new SweepPlan();
        foreach (var packId in pending.Order())
        {
            if (packs.TryGetValue(packId, out var pack)
                && pack.Blobs.Where(b => ContentId.Parse(b.Id) is var id && referenced.Contains(id) && !covered.Contains(id)).ToList() is { Count: > 0 } blobs)
            {
                var usage = new PackUsage(packId, pack.Size, blobs.Count, blobs.Sum(b => (long)b.Length));
                if (_policy.IsSparse(usage) || (repackMarked.Contains(packId) && _policy.IsSmall(pack.Size, repository.Config.PackSize)))
                {
                    needed[packId] = blobs;
                    plan.Rewritten.Add(packId);
                }
                else
                {
                    plan.Kept.Add(packId);
                }
            }
        }

        // What kept packs hold needs no copy; a blob in two rewritten packs is copied once.
        covered.UnionWith(plan.Kept.SelectMany(p => packs[p].Blobs).Select(b => ContentId.Parse(b.Id)));
        foreach (var (packId, blobs) in needed)
        {
            var copy = blobs.Where(b => covered.Add(ContentId.Parse(b.Id))).ToList();
            if (copy.Count > 0)
            {
                plan.Sources.Add(new RepackSource(packId, copy));
            }
        }

        return plan;
    }

    // Before every delete the collection makes sure it has not been paused long enough for a push to judge its marker
    // stale and confirm a snapshot that this sweep would now break (docs/DESIGN.md, "Garbage collection").
    private async Task SweepAsync(InFlightMarker self, IReadOnlyDictionary<string, IndexFile> indexFiles, HashSet<ContentId> doomed, IReadOnlyList<IndexedPack> written,
        Dictionary<ContentId, long> packSizes, CancellationToken cancellationToken)
    {
        if (doomed.Count == 0 && written.Count == 0)
        {
            return;
        }

        // The new index first (new packs, and what the replaced index objects name besides the doomed packs), so that
        // every step after it only removes what nothing needs any more.
        var affected = indexFiles.Where(f => f.Value.Packs.Any(p => doomed.Contains(ContentId.Parse(p.Id)))).ToList();
        var survivors = affected.SelectMany(f => f.Value.Packs).Where(p => !doomed.Contains(ContentId.Parse(p.Id)))
            .Concat(written).DistinctBy(p => p.Id, StringComparer.Ordinal).ToList();
        if (survivors.Count > 0)
        {
            await repository.WriteIndexAsync(new IndexFile { Packs = survivors }, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (key, _) in affected)
        {
            await self.EnsureAliveAsync(cancellationToken).ConfigureAwait(false);
            await repository.Store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var total = doomed.Sum(p => packSizes[p]);
        long freed = 0, deleted = 0;
        foreach (var pack in doomed)
        {
            await self.EnsureAliveAsync(cancellationToken).ConfigureAwait(false);
            await repository.Store.DeleteAsync(PackFormat.KeyOf(pack), cancellationToken).ConfigureAwait(false);
            freed += packSizes[pack];
            Progress?.Report(new TransferProgress(freed, total, ++deleted, doomed.Count));
        }
    }

    private async Task<Dictionary<ContentId, long>> PackSizesAsync(CancellationToken cancellationToken)
    {
        var sizes = new Dictionary<ContentId, long>();
        await foreach (var info in repository.Store.ListAsync(RepositoryLayout.DataPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (PackFormat.TryParseKey(info.Key, out var id))
            {
                sizes[id] = info.Size;
            }
        }

        return sizes;
    }

    private async Task<HashSet<ContentId>> ReferencedChunksAsync(CancellationToken cancellationToken)
    {
        var referenced = new HashSet<ContentId>();
        foreach (var snapshot in await repository.ListAllSnapshotsAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var chunk in snapshot.Manifest.Entries.SelectMany(e => e.Chunks ?? []))
            {
                referenced.Add(ContentId.Parse(chunk));
            }
        }

        // A multi-node step whose other parts are still to come needs its parts' chunks too.
        referenced.UnionWith(await Groups.GroupParts.ReferencedChunksAsync(repository, cancellationToken).ConfigureAwait(false));
        return referenced;
    }

    // A live delta blob needs its base, whether or not a snapshot names the base itself (its first snapshot may be
    // forgotten): every base of a referenced chunk's delta blobs is live. Bases are never deltas, so one pass is all.
    internal static void AddDeltaBases(HashSet<ContentId> referenced, IReadOnlyDictionary<string, IndexFile> indexFiles)
    {
        var bases = indexFiles.Values.SelectMany(f => f.Packs).SelectMany(p => p.Blobs)
            .Where(b => b.Base is not null && referenced.Contains(ContentId.Parse(b.Id)))
            .Select(b => ContentId.Parse(b.Base!)).ToList();
        referenced.UnionWith(bases);
    }

    private async Task<List<CondemnedPacks>> ReadMarksAsync(CancellationToken cancellationToken)
    {
        var marks = new List<CondemnedPacks>();
        foreach (var info in await repository.Store.ListAllAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            var mark = await MetadataStore.TryReadAsync(repository, info.Key, MaintenanceJson.Default.CondemnedPacks, cancellationToken)
                .ConfigureAwait(false);
            if (mark is not null)
            {
                marks.Add(mark);
            }
        }

        return marks;
    }

    private async Task DeleteMarksAsync(IEnumerable<CondemnedPacks> marks, CancellationToken cancellationToken)
    {
        foreach (var mark in marks)
        {
            await repository.Store.DeleteAsync(RepositoryLayout.GcKey(mark.Id), cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class SweepPlan
    {
        public List<RepackSource> Sources { get; } = [];

        public HashSet<ContentId> Rewritten { get; } = [];

        public HashSet<ContentId> Kept { get; } = [];
    }
}
