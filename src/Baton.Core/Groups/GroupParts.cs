using System.Globalization;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Groups;

/// <summary>
/// Housekeeping of <c>parts/</c> and <c>ready/</c>: a pending part's chunks are live (a later node may still complete
/// its step), and parts that can never be committed any more are garbage for prune.
/// </summary>
public static class GroupParts
{
    /// <summary>The chunks of every part in the repository, so that collection keeps what a pending step needs.</summary>
    /// <exception cref="IntegrityException">A part is corrupt.</exception>
    public static async Task<HashSet<ContentId>> ReferencedChunksAsync(Repository repository, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var chunks = new HashSet<ContentId>();
        foreach (var info in await repository.Store.ListAllAsync(RepositoryLayout.RunsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!IsPartKey(info.Key))
            {
                continue;
            }

            var part = await MetadataStore.TryReadAsync(repository, info.Key, GroupJson.Default.GroupPart, cancellationToken).ConfigureAwait(false);
            foreach (var chunk in part?.Entries.SelectMany(e => e.Chunks ?? []) ?? [])
            {
                chunks.Add(ContentId.Parse(chunk));
            }
        }

        return chunks;
    }

    /// <summary>
    /// Deletes the parts that can never be committed: those of steps at or below the run's newest snapshot, and those
    /// of earlier attempts (a newer epoch fenced them); and the start-barrier objects of earlier attempts. Returns how
    /// many objects it deleted.
    /// </summary>
    public static async Task<int> DeleteObsoleteAsync(Repository repository, string run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var store = repository.Store;
        var runPrefix = repository.RunPrefix(run);
        var (obsolete, currentEpoch) = await ObsoletePartsAsync(repository, runPrefix, cancellationToken).ConfigureAwait(false);
        foreach (var key in obsolete)
        {
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var deleted = obsolete.Count;
        var readyPrefix = RepositoryLayout.ReadyIn(runPrefix);
        foreach (var info in await store.ListAllAsync(readyPrefix, cancellationToken).ConfigureAwait(false))
        {
            var rest = info.Key[readyPrefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && long.TryParse(rest.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) && epoch < currentEpoch)
            {
                await store.DeleteAsync(info.Key, cancellationToken).ConfigureAwait(false);
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>
    /// The parts under a run's folder (<paramref name="runPrefix"/>, as in object keys) that can never be committed,
    /// and the run's current epoch.
    /// </summary>
    /// <exception cref="IntegrityException">The run's newest manifest is corrupt.</exception>
    public static async Task<(IReadOnlyList<string> Keys, long CurrentEpoch)> ObsoletePartsAsync(Repository repository, string runPrefix,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(runPrefix);
        var store = repository.Store;
        var partsPrefix = RepositoryLayout.PartsIn(runPrefix);
        var parts = await store.ListAllAsync(partsPrefix, cancellationToken).ConfigureAwait(false);
        if (parts.Count == 0)
        {
            return ([], 0);
        }

        var epochsPrefix = runPrefix + "epochs/";
        var currentEpoch = (await store.ListAllAsync(epochsPrefix, cancellationToken).ConfigureAwait(false))
            .Select(i => long.TryParse(i.Key.AsSpan(epochsPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var e) ? e : 0)
            .DefaultIfEmpty(0).Max();
        var newestStep = long.MinValue;
        foreach (var manifest in (await store.ListAllAsync(runPrefix + "snapshots/", cancellationToken).ConfigureAwait(false))
            .Select(i => i.Key).OrderDescending(StringComparer.Ordinal))
        {
            var snapshot = await repository.ReadSnapshotAsync(manifest, cancellationToken).ConfigureAwait(false);
            if (!snapshot.Manifest.Fence)
            {
                newestStep = snapshot.Manifest.Step ?? long.MinValue;
                break;
            }
        }

        var obsolete = parts.Select(i => i.Key).Where(key => GroupKeys.TryParsePart(key[partsPrefix.Length..], out var epoch, out var step, out _)
            && (step <= newestStep || epoch < currentEpoch)).ToList();
        return (obsolete, currentEpoch);
    }

    // runs/RUN/parts/EPOCH/STEP/NODE
    private static bool IsPartKey(string key)
    {
        var parts = key.Split('/');
        return parts.Length == 6 && parts[0] == "runs" && parts[2] == RepositoryLayout.PartsFolder;
    }
}
