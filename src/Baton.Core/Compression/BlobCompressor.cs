namespace Baton.Compression;

/// <summary>
/// Encodes and decodes blobs. A trial on a sample of each blob (<see cref="CodecProbe"/>) picks the codec: float
/// tensors go to the plane codecs (<see cref="CompressionChoice.Fast"/>: exponents Huffman-coded, mantissas raw) or to
/// the float segment codec (<see cref="CompressionChoice.Small"/>, <see cref="FloatSegmentCodec"/>: each run of values
/// at its own alignment, planes coded with context rANS, Huffman, zstd or raw, whichever is smallest); everything else
/// goes to zstd; data that neither shrinks is stored raw at once, so that neither push nor restore spends CPU on it.
/// Thread-safe.
/// </summary>
public sealed class BlobCompressor
{
    /// <summary>Creates a compressor at a zstd level, with the codec for float data (<see cref="CompressionChoice.Auto"/> is <see cref="CompressionChoice.Fast"/> here: a compressor knows no store).</summary>
    public BlobCompressor(int level = 3, CompressionChoice compression = CompressionChoice.Fast)
    {
        Level = level;
        Compression = compression == CompressionChoice.Small ? CompressionChoice.Small : CompressionChoice.Fast;
    }

    /// <summary>The zstd level.</summary>
    public int Level { get; }

    /// <summary>The codec for float data: <see cref="CompressionChoice.Fast"/> (codecs 2 and 3) or <see cref="CompressionChoice.Small"/> (codec 4).</summary>
    public CompressionChoice Compression { get; }

    /// <summary>The largest encoded size of <paramref name="rawLength"/> bytes.</summary>
    public static int MaxEncodedLength(int rawLength) => ZstdFrames.MaxLength(rawLength);

    /// <summary>
    /// Encodes <paramref name="raw"/> into <paramref name="destination"/> (at least <see cref="MaxEncodedLength"/>
    /// bytes) and returns the codec used and the encoded length.
    /// </summary>
    public (BlobCodec Codec, int Length) Encode(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        var codec = BlobCodec.Zstd;
        if (raw.Length >= CodecProbe.MinLength)
        {
            var probe = CodecProbe.Run(raw, Level);
            codec = probe.Codec;
            if (codec is BlobCodec.Float32Planes or BlobCodec.Float16Planes)
            {
                // Codec 4 finds the alignment of each run of values itself; 2 and 3 take the probe's phase.
                var (floatCodec, length) = Compression == CompressionChoice.Small
                    ? (BlobCodec.FloatSegments, FloatSegmentCodec.Encode(raw, destination, Level))
                    : (codec, FloatPlaneCodec.Encode(raw, WidthOf(codec), probe.Phase, destination, Level));
                if (length > 0 && length < raw.Length - (raw.Length / 64))
                {
                    return (floatCodec, length);
                }

                codec = BlobCodec.None;
            }
        }

        if (codec == BlobCodec.Zstd)
        {
            var length = ZstdFrames.Compress(raw, destination, Level);
            if (length < raw.Length - (raw.Length / 32))
            {
                return (BlobCodec.Zstd, length);
            }
        }

        raw.CopyTo(destination);
        return (BlobCodec.None, raw.Length);
    }

    /// <summary>Decodes a blob into <paramref name="destination"/>, which must be exactly the raw length.</summary>
    /// <exception cref="InvalidDataException">The encoded bytes are corrupt or the codec unknown, or the codec is
    /// <see cref="BlobCodec.Delta"/>, which needs its base (the overload that takes it).</exception>
    public static void Decode(BlobCodec codec, ReadOnlySpan<byte> encoded, Span<byte> destination)
    {
        if (codec == BlobCodec.Delta)
        {
            throw new InvalidDataException($"a delta blob (codec 5) of base {DeltaCodec.BaseOf(encoded).ToShortString()} cannot be decoded without its base chunk");
        }

        DecodeAny(codec, encoded, destination);
    }

    /// <summary>
    /// Decodes a blob of any codec into <paramref name="destination"/> (exactly the raw length); a
    /// <see cref="BlobCodec.Delta"/> blob is XORed with <paramref name="baseRaw"/>, the raw bytes of the base chunk it
    /// names (the caller finds and verifies the base; other codecs ignore it).
    /// </summary>
    /// <exception cref="InvalidDataException">The encoded bytes are corrupt or the codec unknown, or the base has the wrong length.</exception>
    public static void Decode(BlobCodec codec, ReadOnlySpan<byte> encoded, Span<byte> destination, ReadOnlySpan<byte> baseRaw)
    {
        if (codec == BlobCodec.Delta)
        {
            DeltaCodec.Decode(encoded, baseRaw, destination);
            return;
        }

        DecodeAny(codec, encoded, destination);
    }

    private static void DecodeAny(BlobCodec codec, ReadOnlySpan<byte> encoded, Span<byte> destination)
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
                ZstdFrames.Decompress(encoded, destination);
                break;
            case BlobCodec.Float32Planes:
            case BlobCodec.Float16Planes:
                FloatPlaneCodec.Decode(encoded, WidthOf(codec), destination);
                break;
            case BlobCodec.FloatSegments:
                FloatSegmentCodec.Decode(encoded, destination);
                break;
            default:
                throw new InvalidDataException($"unknown blob codec {(byte)codec}: this repository needs a newer baton");
        }
    }

    private static int WidthOf(BlobCodec codec) => codec == BlobCodec.Float32Planes ? 4 : 2;
}
