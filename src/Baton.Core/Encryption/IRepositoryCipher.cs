using Baton.Chunking;
using Baton.Compression;

namespace Baton.Encryption;

/// <summary>What a sealed object is; each kind is sealed with its own associated data, so one cannot pass for another.</summary>
public enum SealedKind
{
    /// <summary>An encoded chunk inside a pack.</summary>
    Blob,

    /// <summary>The header records of a pack.</summary>
    PackHeader,

    /// <summary>The payload of a metadata envelope (index, manifest, journal, lease, tag, mark).</summary>
    Metadata,
}

/// <summary>
/// The one seam between the repository and cryptography (docs/FORMAT.md, "Encryption"). An unencrypted repository
/// uses <see cref="PlaintextCipher"/>, the identity: SHA-256 chunk ids, names as given, nothing sealed, so its format
/// is exactly version 1 without encryption. An encrypted one uses <see cref="AesGcmCipher"/>. Implementations are
/// thread-safe.
/// </summary>
public interface IRepositoryCipher
{
    /// <summary>Whether objects are sealed.</summary>
    bool IsEncrypted { get; }

    /// <summary>How many bytes sealing adds to an object (0 when nothing is sealed).</summary>
    int Overhead { get; }

    /// <summary>The id of a chunk: the SHA-256 of its bytes, or a keyed hash of them so that the store cannot be
    /// searched for known content.</summary>
    ContentId ChunkId(ReadOnlySpan<byte> raw);

    /// <summary>How a run or tag name appears in object keys: as given, or a keyed hash of it.</summary>
    string NameInKeys(string name);

    /// <summary>The chunking parameters in effect, given those stored in the config (an encrypted repository keeps
    /// its gear seed secret).</summary>
    ChunkerParameters Chunker(ChunkerParameters stored);

    /// <summary>Seals <paramref name="plaintext"/> into <paramref name="destination"/>, which must hold
    /// <see cref="Overhead"/> more bytes; returns the bytes written.</summary>
    int Seal(SealedKind kind, ReadOnlySpan<byte> plaintext, Span<byte> destination);

    /// <summary>Opens a sealed object into <paramref name="destination"/> (at least its length minus
    /// <see cref="Overhead"/>); returns the bytes written.</summary>
    /// <exception cref="InvalidDataException">The object was altered, or sealed with another key.</exception>
    int Open(SealedKind kind, ReadOnlySpan<byte> sealedData, Span<byte> destination);

    /// <summary>Opens a stored blob and decodes it into <paramref name="raw"/>, which must be exactly its raw length.
    /// The caller still checks the chunk id.</summary>
    /// <exception cref="InvalidDataException">The blob is corrupt, altered, or its codec unknown.</exception>
    void DecodeBlob(BlobCodec codec, ReadOnlySpan<byte> stored, Span<byte> raw);
}
