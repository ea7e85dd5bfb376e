using System.Security.Cryptography;
using ZstdSharp;

namespace Baton.Repositories;

/// <summary>
/// The wrapper around every metadata object (index, manifest): <c>"BTNMETA1" | codec (1 byte) | SHA-256 of the
/// payload (32 bytes) | payload</c>. The checksum makes a flipped bit an integrity error instead of a silently
/// different snapshot.
/// </summary>
internal static class MetadataEnvelope
{
    private const byte ZstdJson = 1;
    private const int HeaderSize = 8 + 1 + 32;
    private static ReadOnlySpan<byte> Magic => "BTNMETA1"u8;

    public static byte[] Wrap(ReadOnlySpan<byte> json)
    {
        using var compressor = new Compressor(9);
        var compressed = compressor.Wrap(json);
        var result = new byte[HeaderSize + compressed.Length];
        Magic.CopyTo(result);
        result[8] = ZstdJson;
        SHA256.HashData(compressed, result.AsSpan(9, 32));
        compressed.CopyTo(result.AsSpan(HeaderSize));
        return result;
    }

    /// <summary>Checks and unwraps an envelope; returns the JSON and the payload's SHA-256.</summary>
    /// <exception cref="IntegrityException">The object is corrupt.</exception>
    public static (byte[] Json, ContentId Digest) Unwrap(ReadOnlySpan<byte> data, string what)
    {
        if (data.Length < HeaderSize || !data[..8].SequenceEqual(Magic))
        {
            throw new IntegrityException($"{what} is corrupt: not a Baton metadata object");
        }

        if (data[8] != ZstdJson)
        {
            throw new IntegrityException($"{what} uses metadata codec {data[8]}, which this baton does not know: upgrade baton");
        }

        var payload = data[HeaderSize..];
        var digest = ContentId.Compute(payload);
        if (digest != ContentId.FromBytes(data[9..]))
        {
            throw new IntegrityException($"{what} is corrupt: checksum mismatch");
        }

        try
        {
            using var decompressor = new Decompressor();
            return (decompressor.Unwrap(payload).ToArray(), digest);
        }
        catch (ZstdException e)
        {
            throw new IntegrityException($"{what} is corrupt: {e.Message}", e);
        }
    }
}
