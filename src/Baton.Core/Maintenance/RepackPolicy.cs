using Baton.Index;
using Baton.Packs;

namespace Baton.Maintenance;

/// <summary>How much of one indexed pack is still in use.</summary>
/// <param name="Id">The pack.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="LiveBlobs">Blobs that a snapshot references.</param>
/// <param name="LiveBytes">Their stored bytes.</param>
public readonly record struct PackUsage(ContentId Id, long Size, int LiveBlobs, long LiveBytes)
{
    /// <summary>About what rewriting the pack's live blobs into a new pack saves: everything but the blobs and their
    /// header records.</summary>
    public long Reclaimable => Math.Max(0, Size - LiveBytes - ((long)LiveBlobs * PackFormat.RecordSize));

    /// <summary>How much every indexed pack still holds that <paramref name="referenced"/> needs. A chunk indexed in
    /// two packs counts in both, so a pack never looks emptier than it is.</summary>
    public static List<PackUsage> Measure(IEnumerable<IndexFile> indexFiles, IReadOnlySet<ContentId> referenced) =>
        indexFiles.SelectMany(f => f.Packs).DistinctBy(p => p.Id, StringComparer.Ordinal).Select(pack =>
        {
            var live = pack.Blobs.Where(b => referenced.Contains(ContentId.Parse(b.Id))).ToList();
            return new PackUsage(ContentId.Parse(pack.Id), pack.Size, live.Count, live.Sum(b => (long)b.Length));
        }).ToList();
}

/// <summary>
/// When rewriting packs is worthwhile (docs/DESIGN.md, "Repacking"): a pack that is mostly garbage (its live bytes
/// under <see cref="SparseRatio"/> of its size) is rewritten to free the rest; small packs (under
/// <see cref="SmallFraction"/> of the target pack size) are merged once there are at least <see cref="MinSmallPacks"/>,
/// so that a merge always removes several objects and never rewrites much. Packs with nothing live are not repacked:
/// they are deleted whole.
/// </summary>
public sealed record RepackPolicy
{
    /// <summary>The default policy.</summary>
    public static RepackPolicy Default { get; } = new();

    /// <summary>Never repack (only delete packs nothing needs).</summary>
    public static RepackPolicy Never { get; } = new() { SparseRatio = 0, MinSmallPacks = int.MaxValue };

    /// <summary>A pack whose live bytes are below this fraction of its size is rewritten.</summary>
    public double SparseRatio { get; init; } = 0.5;

    /// <summary>A pack below this fraction of the target pack size is small.</summary>
    public double SmallFraction { get; init; } = 1.0 / 8;

    /// <summary>Small packs are merged only when at least this many exist.</summary>
    public int MinSmallPacks { get; init; } = 8;

    /// <summary>The packs worth rewriting, of those that still hold live blobs.</summary>
    public HashSet<ContentId> Choose(IEnumerable<PackUsage> usage, int targetPackSize)
    {
        var live = usage.Where(u => u.LiveBlobs > 0).ToList();
        var chosen = live.Where(IsSparse).Select(u => u.Id).ToHashSet();
        var small = live.Where(u => !chosen.Contains(u.Id) && IsSmall(u.Size, targetPackSize)).ToList();
        if (small.Count >= MinSmallPacks)
        {
            chosen.UnionWith(small.Select(u => u.Id));
        }

        return chosen;
    }

    /// <summary>Whether a pack is small enough to be merged with others.</summary>
    public bool IsSmall(long size, int targetPackSize) => size < targetPackSize * SmallFraction;

    /// <summary>Whether a pack is mostly garbage.</summary>
    public bool IsSparse(PackUsage usage) => usage.LiveBlobs > 0 && usage.LiveBytes < usage.Size * SparseRatio;
}
