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
        var (_, latest) = await repository.ReadHeadAsync(run, cancellationToken).ConfigureAwait(false);
        var newestStep = latest?.Manifest.Step ?? long.MinValue;
        var epochsPrefix = $"{repository.RunPrefix(run)}epochs/";
        var currentEpoch = (await store.ListAllAsync(epochsPrefix, cancellationToken).ConfigureAwait(false))
            .Select(i => long.TryParse(i.Key.AsSpan(epochsPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var e) ? e : 0)
            .DefaultIfEmpty(0).Max();
        var deleted = 0;
        var partsPrefix = GroupKeys.PartsPrefix(repository, run);
        foreach (var info in await store.ListAllAsync(partsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (GroupKeys.TryParsePart(info.Key[partsPrefix.Length..], out var epoch, out var step, out _) && (step <= newestStep || epoch < currentEpoch))
            {
                await store.DeleteAsync(info.Key, cancellationToken).ConfigureAwait(false);
                deleted++;
            }
        }

        var readyPrefix = $"{repository.RunPrefix(run)}ready/";
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

    // runs/RUN/parts/EPOCH/STEP/NODE
    private static bool IsPartKey(string key)
    {
        var parts = key.Split('/');
        return parts.Length == 6 && parts[0] == "runs" && parts[2] == "parts";
    }
}
