using System.Security.Cryptography;
using Baton.Encryption;
using ZstdSharp;

namespace Baton.Repositories;

/// <summary>
/// The wrapper around every metadata object (index, manifest, journal, lease, tag, mark):
/// <c>"BTNMETA1" | codec (1 byte) | SHA-256 of the payload (32 bytes) | payload</c>. The checksum makes a flipped bit an
/// integrity error instead of a silently different snapshot. Codec 1 is zstd-compressed JSON; codec 2, used only in
/// encrypted repositories, is the same sealed with the repository's cipher.
/// </summary>
internal static class MetadataEnvelope
{
    private const byte ZstdJson = 1;
    private const byte SealedZstdJson = 2;
    private const int HeaderSize = 8 + 1 + 32;
    private static ReadOnlySpan<byte> Magic => "BTNMETA1"u8;

    /// <summary>Wraps JSON for an unencrypted repository.</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> json) => Wrap(json, PlaintextCipher.Instance);

    /// <summary>Wraps JSON, sealing it when <paramref name="cipher"/> encrypts.</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> json, IRepositoryCipher cipher)
    {
        using var compressor = new Compressor(9);
        var compressed = compressor.Wrap(json);
        var result = new byte[HeaderSize + compressed.Length + cipher.Overhead];
        Magic.CopyTo(result);
        var payload = result.AsSpan(HeaderSize);
        if (cipher.IsEncrypted)
        {
            result[8] = SealedZstdJson;
            cipher.Seal(SealedKind.Metadata, compressed, payload);
        }
        else
        {
            result[8] = ZstdJson;
            compressed.CopyTo(payload);
        }

        SHA256.HashData(payload, result.AsSpan(9, 32));
        return result;
    }

    /// <summary>The payload digest recorded in an envelope this process just wrapped.</summary>
    public static ContentId DigestOf(ReadOnlySpan<byte> envelope) => ContentId.FromBytes(envelope[9..]);

    /// <summary>Checks and unwraps an envelope of an unencrypted repository.</summary>
    /// <exception cref="IntegrityException">The object is corrupt.</exception>
    public static (byte[] Json, ContentId Digest) Unwrap(ReadOnlySpan<byte> data, string what) => Unwrap(data, what, PlaintextCipher.Instance);

    /// <summary>Checks and unwraps an envelope; returns the JSON and the payload's SHA-256.</summary>
    /// <exception cref="IntegrityException">The object is corrupt, forged, or not sealed the way the repository seals.</exception>
    public static (byte[] Json, ContentId Digest) Unwrap(ReadOnlySpan<byte> data, string what, IRepositoryCipher cipher)
    {
        if (data.Length < HeaderSize || !data[..8].SequenceEqual(Magic))
        {
            throw new IntegrityException($"{what} is corrupt: not a Baton metadata object");
        }

        var codec = data[8];
        if (codec is not (ZstdJson or SealedZstdJson))
        {
            throw new IntegrityException($"{what} uses metadata codec {codec}, which this baton does not know: upgrade baton");
        }

        var payload = data[HeaderSize..];
        var digest = ContentId.Compute(payload);
        if (digest != ContentId.FromBytes(data[9..]))
        {
            throw new IntegrityException($"{what} is corrupt: checksum mismatch");
        }

        // Unsealed metadata in an encrypted repository would be unauthenticated: anyone could have written it.
        if ((codec == SealedZstdJson) != cipher.IsEncrypted)
        {
            throw new IntegrityException(cipher.IsEncrypted
                ? $"{what} is not sealed, but the repository is encrypted: it was not written with the repository's key"
                : $"{what} is sealed, but the repository is not encrypted: it does not belong to this repository");
        }

        return (Decompress(codec == SealedZstdJson ? OpenPayload(payload, what, cipher) : payload, what), digest);
    }

    private static byte[] OpenPayload(ReadOnlySpan<byte> payload, string what, IRepositoryCipher cipher)
    {
        var opened = new byte[Math.Max(0, payload.Length - cipher.Overhead)];
        try
        {
            cipher.Open(SealedKind.Metadata, payload, opened);
        }
        catch (InvalidDataException e)
        {
            throw new IntegrityException($"{what} is corrupt or forged: {e.Message}", e);
        }

        return opened;
    }

    private static byte[] Decompress(ReadOnlySpan<byte> compressed, string what)
    {
        try
        {
            using var decompressor = new Decompressor();
            return decompressor.Unwrap(compressed).ToArray();
        }
        catch (ZstdException e)
        {
            throw new IntegrityException($"{what} is corrupt: {e.Message}", e);
        }
    }
}
