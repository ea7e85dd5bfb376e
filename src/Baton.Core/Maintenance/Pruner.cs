using Baton.Repositories;
using Baton.Retention;

namespace Baton.Maintenance;

/// <summary>What a prune removed (or would remove) and what it freed.</summary>
/// <param name="Decisions">Every snapshot of the run with its fate.</param>
/// <param name="Collection">The garbage collection that followed.</param>
/// <param name="DryRun">Whether nothing was changed.</param>
public sealed record PruneResult(IReadOnlyList<RetentionDecision> Decisions, CollectionResult Collection, bool DryRun)
{
    /// <summary>The snapshots removed (or to be removed).</summary>
    public IEnumerable<Snapshot> Removed => Decisions.Where(d => !d.Keep).Select(d => d.Snapshot);
}

/// <summary>
/// Applies a retention policy to a run (deleting the manifests of snapshots it does not keep, never the newest, never
/// a tagged one) and then collects garbage across the repository, repacking what its <see cref="RepackPolicy"/> (the
/// default when none is given) finds worthwhile.
/// </summary>
/// <param name="repository">The opened repository to work on.</param>
/// <param name="repack">Which partly dead packs are worth rewriting; <c>null</c>: <see cref="RepackPolicy.Default"/>.</param>
public sealed class Pruner(Repository repository, RepackPolicy? repack = null)
{
    private readonly RepackPolicy _policy = repack ?? RepackPolicy.Default;

    /// <summary>Receives progress while unneeded packs are deleted (bytes and packs deleted).</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>Prunes <paramref name="run"/>. With <paramref name="dryRun"/> nothing is changed.</summary>
    public async Task<PruneResult> PruneAsync(string run, RetentionPolicy policy, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        policy.Validate();
        var snapshots = await repository.ListSnapshotsAsync(run, cancellationToken).ConfigureAwait(false);
        var tags = await new SnapshotTags(repository).ListAsync(run, cancellationToken).ConfigureAwait(false);
        var decisions = RetentionPlanner.Plan(snapshots, policy, tags.Select(t => t.SnapshotId).ToHashSet(StringComparer.Ordinal),
            repository.Options.TimeProvider.GetUtcNow());
        var collector = new GarbageCollector(repository, _policy) { Progress = Progress };
        if (dryRun)
        {
            var preview = await PreviewAsync(decisions, cancellationToken).ConfigureAwait(false);
            return new PruneResult(decisions, preview, DryRun: true);
        }

        // Collection reads every manifest of every run: each must be sound before the first one is deleted, so that a
        // damaged manifest stops the prune here and not half-way.
        _ = await repository.ListAllSnapshotsAsync(cancellationToken).ConfigureAwait(false);

        // Oldest first, so that a prune killed half-way never leaves a gap before a snapshot it meant to keep.
        foreach (var decision in decisions.Where(d => !d.Keep).OrderBy(d => d.Snapshot.Sequence))
        {
            await repository.Store.DeleteAsync(repository.SnapshotKey(run, decision.Snapshot.Sequence), cancellationToken).ConfigureAwait(false);
        }

        // Parts of multi-node steps that can never be committed hold their chunks until they go.
        await Groups.GroupParts.DeleteObsoleteAsync(repository, run, cancellationToken).ConfigureAwait(false);
        var collection = await collector.CollectAsync(dryRun: false, cancellationToken).ConfigureAwait(false);
        return new PruneResult(decisions, collection, DryRun: false);
    }

    // What collection would free if the removals happened: packs referenced only by removed snapshots, and what
    // repacking the packs left mostly empty would reclaim.
    private async Task<CollectionResult> PreviewAsync(IReadOnlyList<RetentionDecision> decisions, CancellationToken cancellationToken)
    {
        var removed = decisions.Where(d => !d.Keep).Select(d => (d.Snapshot.Run, d.Snapshot.Sequence)).ToHashSet();
        var kept = new HashSet<ContentId>();
        foreach (var snapshot in await repository.ListAllSnapshotsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!removed.Contains((snapshot.Run, snapshot.Sequence)))
            {
                foreach (var chunk in snapshot.Manifest.Entries.SelectMany(e => e.Chunks ?? []))
                {
                    kept.Add(ContentId.Parse(chunk));
                }
            }
        }

        var index = await repository.ReadAllIndexFilesAsync(cancellationToken).ConfigureAwait(false);
        GarbageCollector.AddDeltaBases(kept, index);
        var usage = PackUsage.Measure(index.Values, kept);
        var freed = usage.Where(u => u.LiveBlobs == 0).ToList();
        var repacked = _policy.Choose(usage, repository.Config.PackSize);
        return new CollectionResult
        {
            PacksCondemned = freed.Count,
            BytesPending = freed.Sum(u => u.Size),
            PacksToRepack = repacked.Count,
            BytesToReclaim = usage.Where(u => repacked.Contains(u.Id)).Sum(u => u.Reclaimable),
            Deferred = "dry run",
        };
    }
}
