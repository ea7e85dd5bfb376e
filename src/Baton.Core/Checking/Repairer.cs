using Baton.Index;
using Baton.Maintenance;
using Baton.Packs;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Checking;

/// <summary>A pack that <see cref="Repairer"/> dropped from the index.</summary>
/// <param name="Key">The pack's key.</param>
/// <param name="Problem">What is wrong with it: missing, wrong size, or what verification found.</param>
/// <param name="Chunks">How many chunks the index named in it.</param>
/// <param name="Salvaged">How many of them were verified intact and copied into a new pack (with a dry run: would be).</param>
public sealed record DroppedPack(string Key, string Problem, int Chunks, int Salvaged);

/// <summary>A snapshot that references chunks the repository no longer holds.</summary>
/// <param name="Id">The snapshot's id.</param>
/// <param name="Run">Its run.</param>
/// <param name="Sequence">Its number in the run.</param>
/// <param name="Step">Its training step, when known.</param>
/// <param name="Files">The files that cannot be restored whole, sorted.</param>
public sealed record DamagedSnapshot(string Id, string Run, long Sequence, long? Step, IReadOnlyList<string> Files);

/// <summary>What <see cref="Repairer"/> found and did.</summary>
public sealed record RepairReport
{
    /// <summary>Packs dropped from the index (with a dry run: that would be dropped).</summary>
    public List<DroppedPack> DroppedPacks { get; } = [];

    /// <summary>Snapshots that lost files. They are kept: a later push of the same bytes makes them whole again.</summary>
    public List<DamagedSnapshot> DamagedSnapshots { get; } = [];

    /// <summary>Damage repair cannot fix (corrupt index objects or manifests), each naming the object.</summary>
    public List<string> Unrepaired { get; } = [];

    /// <summary>Things the user should know that are not damage.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Index objects written.</summary>
    public int IndexObjectsWritten { get; set; }

    /// <summary>Index objects deleted (replaced by the ones written).</summary>
    public int IndexObjectsDeleted { get; set; }

    /// <summary>Bytes read and verified with <c>readData</c>.</summary>
    public long BytesVerified { get; set; }

    /// <summary>Whether nothing was written because it was a dry run.</summary>
    public bool DryRun { get; init; }

    /// <summary>Whether no damage remains that repair cannot fix (snapshots that lost files are not counted).</summary>
    public bool IsRepaired => Unrepaired.Count == 0;
}

/// <summary>
/// Makes a repository fit for pushes again after packs were lost or damaged: every index entry that names a pack the
/// store does not hold (or, with <c>readData</c>, whose verification fails as in <see cref="Checker"/>) is dropped,
/// so that the next push of the same bytes stores those chunks again, and the snapshots that lost files are named.
/// The intact chunks of a damaged pack are first copied into a new pack (each verified against its id on the way, as a
/// repack does), so that one flipped bit costs the files of one chunk, not of a whole pack.
/// Index objects are replaced the way the garbage collector does it: the new index object first, then the replaced
/// ones are deleted, so that a kill at any point leaves every surviving entry indexed. A damaged pack itself stays
/// in the store: nothing indexes it any more, so the next prune deletes it, and until then its bytes remain for
/// anyone who wants to look at them. Snapshots that lost files are kept and reported, never deleted: content
/// addressing makes them whole again as soon as a push stores the same chunks again.
/// </summary>
/// <param name="repository">The opened repository to work on.</param>
public sealed class Repairer(Repository repository)
{
    /// <summary>Runs the repair. Never throws for damage in the data: it goes into the report.</summary>
    /// <param name="readData">Download every indexed pack and verify every blob, not only that the packs exist.</param>
    /// <param name="dryRun">Report what would be done and write nothing.</param>
    /// <param name="progress">Receives bytes verified with <paramref name="readData"/>.</param>
    /// <param name="cancellationToken">Cancels the repair; an index rewrite already started is left in a healthy state.</param>
    /// <exception cref="ConflictException">A push or a garbage collection is in flight.</exception>
    /// <exception cref="StoreException">The store cannot be read or written.</exception>
    public async Task<RepairReport> RepairAsync(bool readData, bool dryRun = false, IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var report = new RepairReport { DryRun = dryRun };
        // Our own record keeps a collection from rewriting the index beside us, and lets us see pushes in flight.
        await using var self = dryRun ? null : await InFlightMarker.BeginCollectionAsync(repository, cancellationToken).ConfigureAwait(false);
        if (!dryRun)
        {
            await RefuseWhileOthersRunAsync(self!, cancellationToken).ConfigureAwait(false);
        }

        var stored = await StoredPacks.ListAsync(repository.Store, cancellationToken).ConfigureAwait(false);
        var indexFiles = await ReadIndexFilesAsync(report, cancellationToken).ConfigureAwait(false);
        var packs = indexFiles.Values.SelectMany(f => f.Packs).DistinctBy(p => p.Id, StringComparer.Ordinal).ToDictionary(p => ContentId.Parse(p.Id));
        var damaged = FindMissing(packs, stored);
        var corrupt = new Dictionary<ContentId, HashSet<ContentId>>();
        if (readData)
        {
            await VerifyPresentAsync(packs, damaged, corrupt, report, progress, cancellationToken).ConfigureAwait(false);
        }

        var surviving = packs.Where(p => !damaged.ContainsKey(p.Key)).SelectMany(p => p.Value.Blobs).Select(b => ContentId.Parse(b.Id)).ToHashSet();
        var salvage = await SalvageAsync(packs, corrupt, surviving, dryRun, cancellationToken).ConfigureAwait(false);
        surviving.UnionWith(salvage.Blobs.Values.SelectMany(b => b));
        report.DroppedPacks.AddRange(damaged.OrderBy(d => d.Key).Select(d => new DroppedPack(PackFormat.KeyOf(d.Key), d.Value, packs[d.Key].Blobs.Count,
            salvage.Blobs.TryGetValue(d.Key, out var saved) ? saved.Count : 0)));
        await FindDamagedSnapshotsAsync(surviving, report, cancellationToken).ConfigureAwait(false);
        if (!dryRun && damaged.Count > 0)
        {
            await RewriteIndexAsync(self!, indexFiles, damaged.Keys.ToHashSet(), salvage.Packs, report, cancellationToken).ConfigureAwait(false);
            await WarnAboutLatePushesAsync(self!, report, cancellationToken).ConfigureAwait(false);
        }

        return report;
    }

    private async Task RefuseWhileOthersRunAsync(InFlightMarker self, CancellationToken cancellationToken)
    {
        var others = (await InFlightMarker.ListLiveAsync(repository, self, cancellationToken).ConfigureAwait(false)).Where(r => r.Id != self.Id).ToList();
        if (others.OrderBy(r => r.Started).FirstOrDefault() is { } first)
        {
            var what = first.Kind == InFlightRecord.CollectionKind
                ? $"a prune or repair by {first.Host} (started {first.Started:u}) is running"
                : $"a push of run '{first.Run}' by {first.Host} (started {first.Started:u}) is in flight";
            throw new ConflictException($"{what} in {repository.Store.Location}: nothing was changed; run 'baton repair' again when it has ended");
        }
    }

    // A push that began before our index rewrite may still reference a dropped pack's chunks when it commits.
    private async Task WarnAboutLatePushesAsync(InFlightMarker self, RepairReport report, CancellationToken cancellationToken)
    {
        var pushes = (await InFlightMarker.ListLiveAsync(repository, self, cancellationToken).ConfigureAwait(false))
            .Where(r => r.Id != self.Id && r.Kind != InFlightRecord.CollectionKind).ToList();
        if (pushes.Count > 0)
        {
            report.Warnings.Add($"{pushes.Count} push(es) started while the index was rewritten: run 'baton check' when they have ended");
        }
    }

    private async Task<Dictionary<string, IndexFile>> ReadIndexFilesAsync(RepairReport report, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, IndexFile>(StringComparer.Ordinal);
        foreach (var info in await repository.Store.ListAllAsync(RepositoryLayout.IndexPrefix, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                files[info.Key] = await repository.ReadIndexFileAsync(info.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (IntegrityException e)
            {
                report.Unrepaired.Add(e.Message);
            }
        }

        return files;
    }

    private static Dictionary<ContentId, string> FindMissing(Dictionary<ContentId, IndexedPack> packs, IReadOnlyDictionary<ContentId, long> stored)
    {
        var damaged = new Dictionary<ContentId, string>();
        foreach (var (id, pack) in packs)
        {
            if (!stored.TryGetValue(id, out var size))
            {
                damaged[id] = "missing from the store";
            }
            else if (size != pack.Size)
            {
                damaged[id] = $"has {size} bytes, the index says {pack.Size}";
            }
        }

        return damaged;
    }

    // The checker's own verification, one pack at a time, so that each finding is tied to its pack.
    private async Task VerifyPresentAsync(Dictionary<ContentId, IndexedPack> packs, Dictionary<ContentId, string> damaged,
        Dictionary<ContentId, HashSet<ContentId>> corrupt, RepairReport report, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        var checker = new Checker(repository);
        var present = packs.Where(p => !damaged.ContainsKey(p.Key)).OrderBy(p => p.Key).ToList();
        var total = present.Sum(p => p.Value.Size);
        foreach (var (id, pack) in present)
        {
            var found = new CheckReport();
            await checker.VerifyPackAsync(id, pack, found, cancellationToken).ConfigureAwait(false);
            report.BytesVerified += found.BytesVerified;
            if (found.Errors.Count > 0)
            {
                damaged[id] = found.Errors.Count == 1 ? found.Errors[0] : $"{found.Errors[0]} (and {found.Errors.Count - 1} more)";
                corrupt[id] = found.CorruptBlobs;
            }

            progress?.Report(new TransferProgress(report.BytesVerified, total, 0, 0));
        }
    }

    // Copies the chunks of damaged (present, verified) packs that verification did not find corrupt and no surviving
    // pack holds into new packs. The repacker opens each against its id again, so a pack whose header could not be
    // trusted is salvaged only when every chunk it is asked for verifies; otherwise nothing of it is.
    private async Task<Salvage> SalvageAsync(Dictionary<ContentId, IndexedPack> packs, Dictionary<ContentId, HashSet<ContentId>> corrupt,
        HashSet<ContentId> surviving, bool dryRun, CancellationToken cancellationToken)
    {
        var salvage = new Salvage();
        var copied = new HashSet<ContentId>(surviving);
        var sources = new List<RepackSource>();
        foreach (var (packId, bad) in corrupt.OrderBy(c => c.Key))
        {
            var blobs = packs[packId].Blobs.Where(b => ContentId.Parse(b.Id) is var id && !bad.Contains(id) && !copied.Contains(id))
                .DistinctBy(b => b.Id, StringComparer.Ordinal).ToList();
            if (blobs.Count == 0)
            {
                continue;
            }

            if (!dryRun)
            {
                try
                {
                    salvage.Packs.AddRange((await new Repacker(repository).CopyAsync([new RepackSource(packId, blobs)], cancellationToken).ConfigureAwait(false)).Packs);
                }
                catch (IntegrityException)
                {
                    continue; // what it uploaded before the bad chunk is unindexed: prune deletes it
                }
            }

            var ids = blobs.Select(b => ContentId.Parse(b.Id)).ToList();
            copied.UnionWith(ids);
            salvage.Blobs[packId] = ids;
        }

        return salvage;
    }

    private async Task FindDamagedSnapshotsAsync(HashSet<ContentId> surviving, RepairReport report, CancellationToken cancellationToken)
    {
        var keys = await repository.Store.ListAllAsync(RepositoryLayout.RunsPrefix, cancellationToken).ConfigureAwait(false);
        foreach (var info in keys.Where(k => k.Key.Contains($"/{RepositoryLayout.SnapshotsFolder}/", StringComparison.Ordinal)).OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            Snapshot snapshot;
            try
            {
                snapshot = await repository.ReadSnapshotAsync(info.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
            {
                continue; // removed by a prune since the listing
            }
            catch (BatonException e) when (e is IntegrityException || e.Category == ErrorCategory.Failure)
            {
                report.Unrepaired.Add(e.Message);
                continue;
            }

            var files = snapshot.Manifest.Entries
                .Where(e => (e.Chunks ?? []).Any(c => !ContentId.TryParse(c, out var id) || !surviving.Contains(id)))
                .Select(e => e.Path).Order(StringComparer.Ordinal).ToList();
            if (files.Count > 0)
            {
                report.DamagedSnapshots.Add(new DamagedSnapshot(snapshot.Id, snapshot.Run, snapshot.Sequence, snapshot.Manifest.Step, files));
            }
        }

        report.DamagedSnapshots.Sort((a, b) => (string.CompareOrdinal(a.Run, b.Run), a.Sequence.CompareTo(b.Sequence)) switch
        {
            (0, var bySequence) => bySequence,
            (var byRun, _) => byRun,
        });
    }

    // New index first (everything the replaced objects name but the dropped packs), then the replaced objects go: a kill
    // in between leaves both, which only names the surviving packs twice. Like every collection, a repair checks before
    // it deletes that it was not paused past its marker's timeout (docs/DESIGN.md, "Pauses and clocks").
    private async Task RewriteIndexAsync(InFlightMarker self, Dictionary<string, IndexFile> indexFiles, HashSet<ContentId> dropped, List<IndexedPack> salvaged, RepairReport report,
        CancellationToken cancellationToken)
    {
        var affected = indexFiles.Where(f => f.Value.Packs.Any(p => dropped.Contains(ContentId.Parse(p.Id)))).Select(f => f.Key).ToList();
        var survivors = affected.SelectMany(k => indexFiles[k].Packs).Where(p => !dropped.Contains(ContentId.Parse(p.Id)))
            .Concat(salvaged).DistinctBy(p => p.Id, StringComparer.Ordinal).ToList();
        if (survivors.Count > 0)
        {
            await repository.WriteIndexAsync(new IndexFile { Packs = survivors }, cancellationToken).ConfigureAwait(false);
            report.IndexObjectsWritten++;
        }

        foreach (var key in affected)
        {
            await self.EnsureAliveAsync(cancellationToken).ConfigureAwait(false);
            await repository.Store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            report.IndexObjectsDeleted++;
        }
    }

    private sealed class Salvage
    {
        public List<IndexedPack> Packs { get; } = [];

        public Dictionary<ContentId, List<ContentId>> Blobs { get; } = [];
    }
}
