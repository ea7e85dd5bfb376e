using Baton.Packs;

namespace Baton.Index;

/// <summary>Where a blob lives.</summary>
/// <param name="PackId">The pack that holds the blob (its object: <see cref="RepositoryLayout.PackKey"/>).</param>
/// <param name="Entry">Where in that pack, and how the bytes are encoded.</param>
public readonly record struct BlobLocation(ContentId PackId, PackEntry Entry);

/// <summary>
/// All index objects merged: blob id to pack location, and the known packs with their sizes. Built with the store's
/// listing of packs (<see cref="StoredPacks"/>), it knows which indexed packs are really there: a blob indexed in
/// several packs is found in one the store holds, and <see cref="IsStored"/> says whether any such pack holds it.
/// </summary>
public sealed class MasterIndex
{
    private readonly Dictionary<ContentId, BlobLocation> _blobs = [];
    private readonly Dictionary<ContentId, long> _packs = [];
    private readonly IReadOnlyDictionary<ContentId, long>? _stored;

    /// <summary>An index that takes every indexed pack as stored.</summary>
    public MasterIndex()
    {
    }

    /// <summary>An index that knows which packs the store holds.</summary>
    /// <param name="storedPacks">The packs listed under <c>data/</c>, with their sizes (<see cref="StoredPacks.ListAsync"/>).</param>
    public MasterIndex(IReadOnlyDictionary<ContentId, long> storedPacks)
    {
        _stored = storedPacks;
    }

    /// <summary>Number of distinct blobs.</summary>
    public int BlobCount => _blobs.Count;

    /// <summary>The packs the index names, with their sizes.</summary>
    public IReadOnlyDictionary<ContentId, long> Packs => _packs;

    /// <summary>Every indexed blob.</summary>
    public IEnumerable<KeyValuePair<ContentId, BlobLocation>> Blobs => _blobs;

    /// <summary>
    /// Adds one pack's blobs. A blob already known keeps its first location, unless that pack is not stored and this
    /// one is: after a lost pack's chunks were stored again, the index names both, and only the new one can be read.
    /// Likewise a blob known as a delta takes a stored plain location of it: a plain copy needs no base (a push stores
    /// a delta again plainly when a collection took its base).
    /// </summary>
    public void Add(ContentId packId, long packSize, IEnumerable<PackEntry> entries)
    {
        _packs[packId] = packSize;
        var stored = HoldsPack(packId);
        foreach (var entry in entries)
        {
            if (!_blobs.TryGetValue(entry.Id, out var known)
                || (stored && (!HoldsPack(known.PackId) || (known.Entry.Codec == Compression.BlobCodec.Delta && entry.Codec != Compression.BlobCodec.Delta))))
            {
                _blobs[entry.Id] = new BlobLocation(packId, entry);
            }
        }
    }

    /// <summary>Adds every pack of an index object.</summary>
    /// <exception cref="FormatException">An id in the object is malformed.</exception>
    public void Add(IndexFile file)
    {
        foreach (var pack in file.Packs)
        {
            Add(ContentId.Parse(pack.Id), pack.Size,
                pack.Blobs.Select(b => new PackEntry(ContentId.Parse(b.Id), b.Offset, b.Length, b.RawLength, b.Codec)
                {
                    Base = b.Base is null ? null : ContentId.Parse(b.Base),
                }));
        }
    }

    /// <summary>Whether a blob is indexed (in a pack the store may or may not hold: see <see cref="IsStored"/>).</summary>
    public bool Contains(ContentId id) => _blobs.ContainsKey(id);

    /// <summary>
    /// Whether a blob is indexed in a pack that the store holds at the size the index records. A writer deduplicates
    /// only against these: a chunk whose every pack is gone (deleted by hand, lost, truncated) is stored again.
    /// </summary>
    public bool IsStored(ContentId id) => _blobs.TryGetValue(id, out var location) && HoldsPack(location.PackId);

    /// <summary>Whether the store holds an indexed pack at the size the index records (always true without a listing).</summary>
    public bool HoldsPack(ContentId packId) =>
        _stored is null || (_stored.TryGetValue(packId, out var size) && _packs.TryGetValue(packId, out var indexed) && size == indexed);

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
                Base = e.Base?.ToString(),
            }).ToList(),
        }).ToList(),
    };
}
