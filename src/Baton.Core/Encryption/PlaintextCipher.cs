using Baton.Chunking;
using Baton.Compression;

namespace Baton.Encryption;

/// <summary>The cipher of an unencrypted repository: the identity. Ids are plain SHA-256 and nothing is sealed.</summary>
public sealed class PlaintextCipher : IRepositoryCipher
{
    private PlaintextCipher()
    {
    }

    /// <summary>The one instance.</summary>
    public static PlaintextCipher Instance { get; } = new();

    /// <inheritdoc />
    public bool IsEncrypted => false;

    /// <inheritdoc />
    public int Overhead => 0;

    /// <inheritdoc />
    public ContentId ChunkId(ReadOnlySpan<byte> raw) => ContentId.Compute(raw);

    /// <inheritdoc />
    public string NameInKeys(string name) => name;

    /// <inheritdoc />
    public ChunkerParameters Chunker(ChunkerParameters stored) => stored;

    /// <inheritdoc />
    public int Seal(SealedKind kind, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        plaintext.CopyTo(destination);
        return plaintext.Length;
    }

    /// <inheritdoc />
    public int Open(SealedKind kind, ReadOnlySpan<byte> sealedData, Span<byte> destination)
    {
        sealedData.CopyTo(destination);
        return sealedData.Length;
    }

    /// <inheritdoc />
    public void DecodeBlob(BlobCodec codec, ReadOnlySpan<byte> stored, Span<byte> raw) => BlobCompressor.Decode(codec, stored, raw);
}
