using System.Numerics;

namespace Baton.Compression;

/// <summary>
/// Codec 5: a chunk stored as the XOR of its bytes with a base chunk of the same length, the XOR encoded with one of
/// codecs 0–4: <c>base id (32 bytes) | inner codec (u8) | inner encoded bytes</c>. Consecutive checkpoints of a run
/// move most numbers a little, so the XOR has long runs of zero bits that the inner codecs store in fewer bytes than the
/// chunk itself. The base is never itself a delta (chains are one level deep). Finding and verifying the base is the
/// reader's work; this class only encodes and decodes given its raw bytes.
/// </summary>
internal static class DeltaCodec
{
    /// <summary>Bytes before the inner encoding: the base id and the inner codec.</summary>
    public const int HeaderSize = ContentId.Size + 1;

    /// <summary>The largest encoded size of a delta of <paramref name="rawLength"/> bytes.</summary>
    public static int MaxEncodedLength(int rawLength) => HeaderSize + BlobCompressor.MaxEncodedLength(rawLength);

    /// <summary>The base chunk a delta blob names.</summary>
    /// <exception cref="InvalidDataException">The blob is shorter than its header.</exception>
    public static ContentId BaseOf(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < HeaderSize)
        {
            throw new InvalidDataException("delta blob is shorter than its header");
        }

        return ContentId.FromBytes(encoded);
    }

    /// <summary>
    /// Encodes <paramref name="raw"/> as its XOR with <paramref name="baseRaw"/> (the same length) into
    /// <paramref name="destination"/> (at least <see cref="MaxEncodedLength"/>), coding the XOR as
    /// <paramref name="compressor"/> codes any chunk; <paramref name="scratch"/> holds the XOR (at least the raw length).
    /// Returns the encoded length.
    /// </summary>
    public static int Encode(BlobCompressor compressor, ReadOnlySpan<byte> raw, ContentId baseId, ReadOnlySpan<byte> baseRaw, Span<byte> scratch,
        Span<byte> destination)
    {
        if (baseRaw.Length != raw.Length)
        {
            throw new ArgumentException("a delta's base must have the chunk's length", nameof(baseRaw));
        }

        var xor = scratch[..raw.Length];
        raw.CopyTo(xor);
        XorInto(baseRaw, xor);
        baseId.WriteTo(destination);
        var (inner, length) = compressor.Encode(xor, destination[HeaderSize..]);
        destination[ContentId.Size] = (byte)inner;
        return HeaderSize + length;
    }

    /// <summary>Decodes a delta blob into <paramref name="destination"/> (exactly the raw length) given its base's raw bytes.</summary>
    /// <exception cref="InvalidDataException">The blob is corrupt, its inner codec is a delta or unknown, or the base has another length.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, ReadOnlySpan<byte> baseRaw, Span<byte> destination)
    {
        if (encoded.Length < HeaderSize)
        {
            throw new InvalidDataException("delta blob is shorter than its header");
        }

        var inner = (BlobCodec)encoded[ContentId.Size];
        if (inner == BlobCodec.Delta)
        {
            throw new InvalidDataException("delta blob names the delta codec as its inner codec (chains are one level deep)");
        }

        if (baseRaw.Length != destination.Length)
        {
            throw new InvalidDataException($"delta blob has {destination.Length} raw bytes but its base has {baseRaw.Length}");
        }

        BlobCompressor.Decode(inner, encoded[HeaderSize..], destination);
        XorInto(baseRaw, destination);
    }

    /// <summary><paramref name="target"/> ^= <paramref name="other"/>, byte by byte (the same length).</summary>
    internal static void XorInto(ReadOnlySpan<byte> other, Span<byte> target)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= target.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                (new Vector<byte>(target[i..]) ^ new Vector<byte>(other[i..])).CopyTo(target[i..]);
            }
        }

        for (; i < target.Length; i++)
        {
            target[i] ^= other[i];
        }
    }
}
