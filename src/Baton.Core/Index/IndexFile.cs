using Baton.Compression;

namespace Baton.Index;

/// <summary>An <c>index/</c> object: which blobs each pack of one push holds.</summary>
public sealed record IndexFile
{
    /// <summary>Format version of the index object.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The packs this index describes.</summary>
    public required List<IndexedPack> Packs { get; init; }
}

/// <summary>One pack and its blobs.</summary>
public sealed record IndexedPack
{
    /// <summary>Pack id (hex SHA-256 of the pack).</summary>
    public required string Id { get; init; }

    /// <summary>Size of the pack object.</summary>
    public long Size { get; init; }

    /// <summary>The blobs, in pack order.</summary>
    public required List<IndexedBlob> Blobs { get; init; }
}

/// <summary>One blob's place in its pack.</summary>
public sealed record IndexedBlob
{
    /// <summary>Blob id (hex SHA-256 of its raw bytes).</summary>
    public required string Id { get; init; }

    /// <summary>Offset of the encoded bytes in the pack.</summary>
    public long Offset { get; init; }

    /// <summary>Encoded length.</summary>
    public int Length { get; init; }

    /// <summary>Raw length.</summary>
    public int RawLength { get; init; }

    /// <summary>Codec number (see <see cref="BlobCodec"/>).</summary>
    public BlobCodec Codec { get; init; }

    /// <summary>For a <see cref="BlobCodec.Delta"/> blob, the id of its base chunk (hex); absent for other codecs.</summary>
    public string? Base { get; init; }
}
