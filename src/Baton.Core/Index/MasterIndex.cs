using Baton.Packs;

namespace Baton.Index;

/// <summary>Where a blob lives.</summary>
public readonly record struct BlobLocation(ContentId PackId, PackEntry Entry);

/// <summary>All index objects merged: blob id to pack location, and the known packs with their sizes.</summary>
public sealed class MasterIndex
{
    private readonly Dictionary<ContentId, BlobLocation> _blobs = [];
    private readonly Dictionary<ContentId, long> _packs = [];

    /// <summary>Number of distinct blobs.</summary>
    public int BlobCount => _blobs.Count;

    /// <summary>The packs the index names, with their sizes.</summary>
    public IReadOnlyDictionary<ContentId, long> Packs => _packs;

    /// <summary>Every indexed blob.</summary>
    public IEnumerable<KeyValuePair<ContentId, BlobLocation>> Blobs => _blobs;

    /// <summary>Adds one pack's blobs. A blob already known keeps its first location.</summary>
    public void Add(ContentId packId, long packSize, IEnumerable<PackEntry> entries)
    {
        _packs[packId] = packSize;
        foreach (var entry in entries)
        {
            _blobs.TryAdd(entry.Id, new BlobLocation(packId, entry));
        }
    }

    /// <summary>Adds every pack of an index object.</summary>
    /// <exception cref="FormatException">An id in the object is malformed.</exception>
    public void Add(IndexFile file)
    {
        foreach (var pack in file.Packs)
        {
            Add(ContentId.Parse(pack.Id), pack.Size,
                pack.Blobs.Select(b => new PackEntry(ContentId.Parse(b.Id), b.Offset, b.Length, b.RawLength, b.Codec)));
        }
    }

    /// <summary>Whether a blob is stored.</summary>
    public bool Contains(ContentId id) => _blobs.ContainsKey(id);

    /// <summary>Finds a blob.</summary>
    public bool TryGet(ContentId id, out BlobLocation location) => _blobs.TryGetValue(id, out location);

    /// <summary>Builds the index object describing some sealed packs.</summary>
    public static IndexFile Describe(IEnumerable<(ContentId PackId, long Size, IReadOnlyList<PackEntry> Entries)> packs) => new()
    {
        Packs = packs.Select(p => new IndexedPack
        {
            Id = p.PackId.ToString(),
            Size = p.Size,
            Blobs = p.Entries.Select(e => new IndexedBlob
            {
                Id = e.Id.ToString(),
                Offset = e.Offset,
                Length = e.Length,
                RawLength = e.RawLength,
                Codec = e.Codec,
            }).ToList(),
        }).ToList(),
    };
}
