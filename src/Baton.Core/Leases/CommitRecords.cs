using System.Globalization;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Leases;

/// <summary>A committed snapshot that the run's own records know of, but whose manifest is gone from the store.</summary>
/// <param name="Sequence">The sequence the writer committed.</param>
/// <param name="RecordKey">The heartbeat object that records it.</param>
/// <param name="HighestPresent">The highest sequence still in the store, fences included (0 when none).</param>
public sealed record VanishedCommit(long Sequence, string RecordKey, long HighestPresent);

/// <summary>
/// The newest sequence each writer committed, as its heartbeat records it (<see cref="LeaseHeartbeat.Committed"/>).
/// Manifests are only ever deleted by prune, which never deletes a run's newest: a recorded sequence above every
/// manifest in the store means the newest snapshot was deleted or lost, and restoring "the newest" would silently
/// restore an older one.
/// </summary>
public static class CommitRecords
{
    /// <summary>Finds the run's newest recorded commit that has vanished; <c>null</c> when nothing has.</summary>
    /// <exception cref="BatonException">A heartbeat was written by a newer baton, or a manifest above the recorded one is damaged.</exception>
    public static Task<VanishedCommit?> FindVanishedAsync(Repository repository, string run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        return FindVanishedInAsync(repository, repository.RunPrefix(run), cancellationToken);
    }

    /// <summary>As <see cref="FindVanishedAsync"/>, for the run folder <paramref name="runPrefix"/> (<c>runs/X/</c>).</summary>
    internal static async Task<VanishedCommit?> FindVanishedInAsync(Repository repository, string runPrefix, CancellationToken cancellationToken)
    {
        // Records first, manifests second: a push that commits in between can only raise what is present.
        var recorded = await NewestRecordedAsync(repository, runPrefix, cancellationToken).ConfigureAwait(false);
        if (recorded is not { } newest)
        {
            return null;
        }

        var snapshots = RepositoryLayout.SnapshotsIn(runPrefix);
        var present = new SortedSet<long>();
        await foreach (var info in repository.Store.ListAsync(snapshots, cancellationToken).ConfigureAwait(false))
        {
            if (long.TryParse(info.Key.AsSpan(snapshots.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                present.Add(sequence);
            }
        }

        if (present.Contains(newest.Sequence))
        {
            return null;
        }

        // Prune may remove it once a newer snapshot exists; a fence above it (a take-over) is not one.
        foreach (var sequence in present.GetViewBetween(newest.Sequence + 1, long.MaxValue).Reverse())
        {
            if (!(await repository.ReadSnapshotAsync(RepositoryLayout.SnapshotKeyIn(runPrefix, sequence), cancellationToken).ConfigureAwait(false)).Manifest.Fence)
            {
                return null;
            }
        }

        return new VanishedCommit(newest.Sequence, newest.Key, present.Count > 0 ? present.Max : 0);
    }

    // Epochs grow with time and so do the sequences their writers commit: the newest heartbeat that records a commit
    // holds the run's newest. Damaged heartbeats are skipped here (check reports them).
    private static async Task<(long Sequence, string Key)?> NewestRecordedAsync(Repository repository, string runPrefix, CancellationToken cancellationToken)
    {
        var keys = await repository.Store.ListAllAsync(RepositoryLayout.HeartbeatsIn(runPrefix), cancellationToken).ConfigureAwait(false);
        foreach (var key in keys.Select(k => k.Key).OrderDescending(StringComparer.Ordinal))
        {
            LeaseHeartbeat? beat;
            try
            {
                beat = await MetadataStore.TryReadAsync(repository, key, LeaseJson.Default.LeaseHeartbeat, cancellationToken).ConfigureAwait(false);
            }
            catch (IntegrityException)
            {
                continue;
            }

            if (beat?.Committed is { } sequence)
            {
                return (sequence, key);
            }
        }

        return null;
    }
}
