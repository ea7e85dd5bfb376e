using ZstdSharp;

namespace Baton.Compression;

/// <summary>
/// Encodes and decodes blobs. Picks the cheapest encoding that pays: a blob that zstd cannot shrink by a few percent
/// is stored raw, so that restoring it costs no CPU. Thread-safe (one zstd context per thread).
/// </summary>
public sealed class BlobCompressor
{
    [ThreadStatic]
    private static Compressor? t_compressor;

    [ThreadStatic]
    private static Decompressor? t_decompressor;

    /// <summary>Creates a compressor at a zstd level.</summary>
    public BlobCompressor(int level = 3)
    {
        Level = level;
    }

    /// <summary>The zstd level.</summary>
    public int Level { get; }

    /// <summary>The largest encoded size of <paramref name="rawLength"/> bytes.</summary>
    public static int MaxEncodedLength(int rawLength) => Compressor.GetCompressBound(rawLength);

    /// <summary>
    /// Encodes <paramref name="raw"/> into <paramref name="destination"/> (at least <see cref="MaxEncodedLength"/>
    /// bytes) and returns the codec used and the encoded length.
    /// </summary>
    public (BlobCodec Codec, int Length) Encode(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        var compressor = t_compressor;
        if (compressor is null || compressor.Level != Level)
        {
            compressor?.Dispose();
            compressor = t_compressor = new Compressor(Level);
        }

        var length = compressor.Wrap(raw, destination);
        if (length < raw.Length - (raw.Length / 32))
        {
            return (BlobCodec.Zstd, length);
        }

        raw.CopyTo(destination);
        return (BlobCodec.None, raw.Length);
    }

    /// <summary>Decodes a blob into <paramref name="destination"/>, which must be exactly the raw length.</summary>
    /// <exception cref="InvalidDataException">The encoded bytes are corrupt or the codec unknown.</exception>
    public static void Decode(BlobCodec codec, ReadOnlySpan<byte> encoded, Span<byte> destination)
    {
        switch (codec)
        {
            case BlobCodec.None:
                if (encoded.Length != destination.Length)
                {
                    throw new InvalidDataException("raw blob has the wrong length");
                }

                encoded.CopyTo(destination);
                break;
            case BlobCodec.Zstd:
                int written;
                try
                {
                    written = (t_decompressor ??= new Decompressor()).Unwrap(encoded, destination);
                }
                catch (ZstdException e)
                {
                    throw new InvalidDataException("zstd frame is corrupt: " + e.Message, e);
                }

                if (written != destination.Length)
                {
                    throw new InvalidDataException($"zstd frame decoded to {written} bytes, expected {destination.Length}");
                }

                break;
            default:
                throw new InvalidDataException($"unknown blob codec {(byte)codec}: this repository needs a newer baton");
        }
    }
}
