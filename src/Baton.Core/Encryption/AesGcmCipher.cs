using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Baton.Chunking;
using Baton.Compression;

namespace Baton.Encryption;

/// <summary>
/// The cipher of an encrypted repository: AES-256-GCM with a random 96-bit nonce per object
/// (<c>nonce | ciphertext | tag</c>), HMAC-SHA256 chunk ids, keyed names in object keys and a secret chunker seed, all
/// from keys derived from the master secret.
/// </summary>
internal sealed class AesGcmCipher : IRepositoryCipher
{
    /// <summary>The cipher's name in the config.</summary>
    public const string Name = "aes-256-gcm";

    /// <summary>Nonce length.</summary>
    public const int NonceSize = 12;

    /// <summary>Authentication tag length.</summary>
    public const int TagSize = 16;

    private static readonly byte[] s_blobLabel = Encoding.ASCII.GetBytes("baton/blob");
    private static readonly byte[] s_headerLabel = Encoding.ASCII.GetBytes("baton/pack-header");
    private static readonly byte[] s_metadataLabel = Encoding.ASCII.GetBytes("baton/metadata");

    private readonly byte[] _dataKey;
    private readonly byte[] _idKey;
    private readonly byte[] _nameKey;
    private readonly ulong _chunkerSeed;

    public AesGcmCipher(MasterKey master)
    {
        _dataKey = master.Derive("data", 32);
        _idKey = master.Derive("chunk-id", 32);
        _nameKey = master.Derive("name", 32);
        _chunkerSeed = BinaryPrimitives.ReadUInt64LittleEndian(master.Derive("chunker-seed", 8));
    }

    /// <inheritdoc />
    public bool IsEncrypted => true;

    /// <inheritdoc />
    public int Overhead => NonceSize + TagSize;

    /// <inheritdoc />
    public ContentId ChunkId(ReadOnlySpan<byte> raw)
    {
        Span<byte> digest = stackalloc byte[ContentId.Size];
        HMACSHA256.HashData(_idKey, raw, digest);
        return ContentId.FromBytes(digest);
    }

    /// <inheritdoc />
    public string NameInKeys(string name)
    {
        Span<byte> digest = stackalloc byte[32];
        HMACSHA256.HashData(_nameKey, Encoding.UTF8.GetBytes(name), digest);
        return Convert.ToHexStringLower(digest[..16]);
    }

    /// <inheritdoc />
    public ChunkerParameters Chunker(ChunkerParameters stored) => stored with { Seed = _chunkerSeed };

    /// <inheritdoc />
    public int Seal(SealedKind kind, ReadOnlySpan<byte> plaintext, Span<byte> destination) =>
        SealWith(_dataKey, Label(kind), plaintext, destination);

    /// <inheritdoc />
    public int Open(SealedKind kind, ReadOnlySpan<byte> sealedData, Span<byte> destination) =>
        OpenWith(_dataKey, Label(kind), sealedData, destination);

    /// <inheritdoc />
    public void DecodeBlob(BlobCodec codec, ReadOnlySpan<byte> stored, Span<byte> raw)
    {
        if (codec == BlobCodec.None)
        {
            // A raw blob opens straight into place: no second buffer.
            if (stored.Length - Overhead != raw.Length)
            {
                throw new InvalidDataException("raw blob has the wrong length");
            }

            OpenWith(_dataKey, s_blobLabel, stored, raw);
            return;
        }

        var length = Math.Max(0, stored.Length - Overhead);
        var encoded = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var opened = OpenWith(_dataKey, s_blobLabel, stored, encoded);
            BlobCompressor.Decode(codec, encoded.AsSpan(0, opened), raw);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(encoded);
        }
    }

    /// <summary>Seals with any key: <c>nonce | ciphertext | tag</c>.</summary>
    internal static int SealWith(byte[] key, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        var total = NonceSize + plaintext.Length + TagSize;
        if (destination.Length < total)
        {
            throw new ArgumentException("destination is too small for the sealed object", nameof(destination));
        }

        var nonce = destination[..NonceSize];
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, destination.Slice(NonceSize, plaintext.Length), destination.Slice(NonceSize + plaintext.Length, TagSize), associatedData);
        return total;
    }

    /// <summary>Opens what <see cref="SealWith"/> sealed.</summary>
    /// <exception cref="InvalidDataException">Altered, truncated, or sealed with another key.</exception>
    internal static int OpenWith(byte[] key, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> sealedData, Span<byte> destination)
    {
        var length = sealedData.Length - NonceSize - TagSize;
        if (length < 0)
        {
            throw new InvalidDataException("too short to be a sealed object");
        }

        if (destination.Length < length)
        {
            throw new ArgumentException("destination is too small for the opened object", nameof(destination));
        }

        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedData[..NonceSize], sealedData.Slice(NonceSize, length), sealedData[(NonceSize + length)..], destination[..length], associatedData);
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException("authentication failed: it was altered, or sealed with another key", e);
        }

        return length;
    }

    private static byte[] Label(SealedKind kind) => kind switch
    {
        SealedKind.Blob => s_blobLabel,
        SealedKind.PackHeader => s_headerLabel,
        SealedKind.Metadata => s_metadataLabel,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
