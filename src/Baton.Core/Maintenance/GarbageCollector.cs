using Baton.Index;
using Baton.Packs;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;

namespace Baton.Maintenance;

/// <summary>What a garbage collection did (or, in a dry run, would do).</summary>
public sealed record CollectionResult
{
    /// <summary>Packs deleted by this collection.</summary>
    public int PacksDeleted { get; init; }

    /// <summary>Bytes freed by the deleted packs.</summary>
    public long BytesFreed { get; init; }

    /// <summary>Unreferenced packs marked for deletion by a later collection.</summary>
    public int PacksCondemned { get; init; }

    /// <summary>Bytes held by packs that are marked but not yet deleted.</summary>
    public long BytesPending { get; init; }

    /// <summary>Why marked packs were not deleted yet, if they were not.</summary>
    public string? Deferred { get; init; }
}

/// <summary>
/// Deletes packs that no committed snapshot references, in two phases so that a concurrent push can never lose data:
/// <list type="number">
/// <item>Mark: unreferenced packs are listed in a <c>gc/ID</c> object. Pushes that start afterwards treat chunks in
/// marked packs as absent and upload them again.</item>
/// <item>Sweep: once no push is in flight (no live <see cref="InFlightMarker"/>), the marked packs that are still
/// unreferenced are removed: first a new index object without them is written, then the old index objects are
/// deleted, then the packs, then the mark.</item>
/// </list>
/// Every step leaves a healthy repository if the process is killed between steps.
/// </summary>
public sealed class GarbageCollector(Repository repository)
{
    /// <summary>Prefix of mark objects.</summary>
    public const string Prefix = "gc/";

    /// <summary>Receives progress while marked packs are deleted (bytes freed, packs deleted); reported after each pack.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>Runs a collection. With <paramref name="dryRun"/> nothing is written or deleted.</summary>
    /// <exception cref="IntegrityException">A manifest or index object is corrupt: nothing is deleted when in doubt.</exception>
    public async Task<CollectionResult> CollectAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var store = repository.Store;
        var referenced = await ReferencedChunksAsync(cancellationToken).ConfigureAwait(false);
        var indexFiles = await repository.ReadAllIndexFilesAsync(cancellationToken).ConfigureAwait(false);
        var packSizes = new Dictionary<ContentId, long>();
        await foreach (var info in store.ListAsync(RepositoryLayout.DataPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (PackFormat.TryParseKey(info.Key, out var id))
            {
                packSizes[id] = info.Size;
            }
        }

        var live = LivePacks(indexFiles, referenced);
        var unreferenced = packSizes.Keys.Where(p => !live.Contains(p)).ToHashSet();
        var marks = await ReadMarksAsync(cancellationToken).ConfigureAwait(false);
        var alreadyMarked = marks.SelectMany(m => m.Packs).Select(ContentId.Parse).ToHashSet();
        var toMark = unreferenced.Where(p => !alreadyMarked.Contains(p)).Order().ToList();
        if (dryRun)
        {
            return new CollectionResult
            {
                PacksCondemned = unreferenced.Count,
                BytesPending = unreferenced.Sum(p => packSizes[p]),
                Deferred = "dry run",
            };
        }

        CondemnedPacks? newMark = null;
        if (toMark.Count > 0)
        {
            newMark = new CondemnedPacks
            {
                Id = $"{repository.Options.TimeProvider.GetUtcNow():yyyyMMddTHHmmss}-{Guid.NewGuid():N}"[..32],
                Created = repository.Options.TimeProvider.GetUtcNow(),
                Packs = toMark.Select(p => p.ToString()).ToList(),
            };
            await MetadataStore.WriteAsync(repository, Prefix + newMark.Id, newMark, MaintenanceJson.Default.CondemnedPacks, PutMode.CreateNew, cancellationToken)
                .ConfigureAwait(false);
            marks.Add(newMark);
        }

        // Only after the mark is durable may we look for pushes: one that starts later sees the mark.
        var inFlight = await InFlightMarker.ListLiveAsync(repository, cancellationToken).ConfigureAwait(false);
        var pending = marks.SelectMany(m => m.Packs).Select(ContentId.Parse).Where(packSizes.ContainsKey).ToHashSet();
        if (inFlight.Count > 0)
        {
            var first = inFlight.OrderBy(r => r.Started).First();
            return new CollectionResult
            {
                PacksCondemned = pending.Count,
                BytesPending = pending.Sum(p => packSizes[p]),
                Deferred = $"a push of run '{first.Run}' by {first.Host} (started {first.Started:u}) is in flight; a later prune deletes the marked packs",
            };
        }

        // Re-read what is referenced now: a push that started before the mark may have committed since. A marked pack
        // stays while it holds a referenced chunk that no unmarked pack also holds (pushes after the mark store such
        // chunks again, in new packs).
        referenced = await ReferencedChunksAsync(cancellationToken).ConfigureAwait(false);
        indexFiles = await repository.ReadAllIndexFilesAsync(cancellationToken).ConfigureAwait(false);
        var covered = indexFiles.Values.SelectMany(f => f.Packs).Where(p => !pending.Contains(ContentId.Parse(p.Id)))
            .SelectMany(p => p.Blobs).Select(b => ContentId.Parse(b.Id)).ToHashSet();
        var stillNeeded = indexFiles.Values.SelectMany(f => f.Packs)
            .Where(p => p.Blobs.Any(b => ContentId.Parse(b.Id) is var id && referenced.Contains(id) && !covered.Contains(id)))
            .Select(p => ContentId.Parse(p.Id)).ToHashSet();
        var doomed = pending.Where(p => !stillNeeded.Contains(p)).ToHashSet();
        await SweepAsync(indexFiles, doomed, packSizes, cancellationToken).ConfigureAwait(false);
        foreach (var mark in marks)
        {
            await store.DeleteAsync(Prefix + mark.Id, cancellationToken).ConfigureAwait(false);
        }

        return new CollectionResult { PacksDeleted = doomed.Count, BytesFreed = doomed.Sum(p => packSizes[p]) };
    }

    /// <summary>Pack ids named in marks: pushes must not reuse their chunks.</summary>
    public async Task<IReadOnlySet<ContentId>> MarkedPacksAsync(CancellationToken cancellationToken = default) =>
        (await ReadMarksAsync(cancellationToken).ConfigureAwait(false)).SelectMany(m => m.Packs).Select(ContentId.Parse).ToHashSet();

    private async Task SweepAsync(IReadOnlyDictionary<string, IndexFile> indexFiles, HashSet<ContentId> doomed, Dictionary<ContentId, long> packSizes,
        CancellationToken cancellationToken)
    {
        if (doomed.Count == 0)
        {
            return;
        }

        var affected = indexFiles.Where(f => f.Value.Packs.Any(p => doomed.Contains(ContentId.Parse(p.Id)))).ToList();
        var survivors = affected.SelectMany(f => f.Value.Packs).Where(p => !doomed.Contains(ContentId.Parse(p.Id)))
            .DistinctBy(p => p.Id).ToList();
        if (survivors.Count > 0)
        {
            await repository.WriteIndexAsync(new IndexFile { Packs = survivors }, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (key, _) in affected)
        {
            await repository.Store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var total = doomed.Sum(p => packSizes[p]);
        long freed = 0, deleted = 0;
        foreach (var pack in doomed)
        {
            await repository.Store.DeleteAsync(PackFormat.KeyOf(pack), cancellationToken).ConfigureAwait(false);
            freed += packSizes[pack];
            Progress?.Report(new TransferProgress(freed, total, ++deleted, doomed.Count));
        }
    }

    // A pack is live when any of its blobs is referenced; packs no index names (left by a killed push) are not.
    private static HashSet<ContentId> LivePacks(IReadOnlyDictionary<string, IndexFile> indexFiles, HashSet<ContentId> referenced) =>
        indexFiles.Values.SelectMany(f => f.Packs)
            .Where(pack => pack.Blobs.Any(b => referenced.Contains(ContentId.Parse(b.Id))))
            .Select(pack => ContentId.Parse(pack.Id))
            .ToHashSet();

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

        return referenced;
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
}
