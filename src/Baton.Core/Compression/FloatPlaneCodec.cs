using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Baton.Compression;

/// <summary>
/// Lossless coding of IEEE-like floats (float32: width 4; bfloat16/float16: width 2) split into planes by
/// <see cref="PlaneSplitter"/>: the exact exponent, the sign with the top mantissa bits, the lower mantissa bytes.
/// Each plane is stored raw, as one repeated byte, Huffman-coded or as a zstd frame, whichever is smallest for the
/// effort; planes that a sample shows to be noise are written raw straight from the split, with no further pass.
/// Values start <c>phase</c> bytes into the blob (chunks are cut anywhere, not on value boundaries); the bytes
/// before the first and after the last whole value are kept as they are.
/// </summary>
/// <remarks>
/// Layout: <c>version (u8 = 1) | phase (u8) | XXH3-64 of the raw bytes (u64 LE) | leading bytes | trailing bytes |
/// plane table: width x (mode u8, payload length u32 LE) | payloads, last plane first</c>. Modes: 0 raw (the plane's
/// bytes), 1 constant (one byte), 2 Huffman (<see cref="HuffmanCoder"/>), 3 zstd (one frame). The value count
/// follows from the raw length, which the pack records. Raw payloads come first so that the split writes them in
/// place.
/// </remarks>
internal static class FloatPlaneCodec
{
    /// <summary>Bytes before the leading bytes.</summary>
    public const int HeaderSize = 10;

    private const byte Version = 1;
    private const int TableEntry = 5;
    private const int SampleTarget = 4096;

    // Above this sampled entropy (bits per byte) a plane is stored raw without a full pass over it.
    private const double NoiseEntropy = 7.8;

    /// <summary>How one plane's payload is stored (shared with codec 4).</summary>
    internal enum PlaneMode : byte
    {
        Raw = 0,
        Constant = 1,
        Huffman = 2,
        Zstd = 3,
    }

    /// <summary>
    /// Encodes <paramref name="raw"/> as values of <paramref name="width"/> bytes starting at <paramref name="phase"/>.
    /// Returns the encoded length, or -1 when the result would not be smaller than the raw bytes or would not fit.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> raw, int width, int phase, Span<byte> destination, int zstdLevel)
    {
        if (width is not (2 or 4) || phase < 0 || phase >= width || raw.Length < phase + width)
        {
            throw new ArgumentException($"cannot split {raw.Length} bytes into {width}-byte values at phase {phase}");
        }

        var count = (raw.Length - phase) / width;
        var tail = raw.Length - phase - (count * width);
        var values = raw.Slice(phase, count * width);
        var table = HeaderSize + phase + tail;
        var payloads = table + (TableEntry * width);
        if (payloads + (count * width) > destination.Length)
        {
            return -1;
        }

        destination[0] = Version;
        destination[1] = (byte)phase;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[2..], XxHash3.HashToUInt64(raw));
        raw[..phase].CopyTo(destination[HeaderSize..]);
        raw[^tail..].CopyTo(destination[(HeaderSize + phase)..]);

        // Payloads go last plane first: the noise planes (raw, known length) get fixed places the split writes into.
        Span<bool> analyse = stackalloc bool[width];
        var position = payloads;
        var inPlace = width;
        for (var plane = width - 1; plane >= 0; plane--)
        {
            analyse[plane] = plane == 0 || SampledEntropy(values, width, plane) <= NoiseEntropy;
            if (analyse[plane] || inPlace != plane + 1)
            {
                continue;
            }

            inPlace = plane;
            WriteEntry(destination, table, plane, PlaneMode.Raw, count);
            position += count;
        }

        var scratch = CodecScratch.Pool.Rent(Math.Max(1, (inPlace * count) + 16));
        try
        {
            var scratchSpan = scratch.AsSpan();
            var placed = destination[payloads..];
            if (width == 4)
            {
                PlaneSplitter.Split4(values, Target(0, width, count, inPlace, scratchSpan, placed), Target(1, width, count, inPlace, scratchSpan, placed),
                    Target(2, width, count, inPlace, scratchSpan, placed), Target(3, width, count, inPlace, scratchSpan, placed));
            }
            else
            {
                PlaneSplitter.Split2(values, Target(0, width, count, inPlace, scratchSpan, placed), Target(1, width, count, inPlace, scratchSpan, placed));
            }

            for (var plane = inPlace - 1; plane >= 0; plane--)
            {
                var symbols = scratchSpan.Slice(plane * count, count);
                var (mode, length) = analyse[plane]
                    ? EncodePlane(symbols, destination[position..], zstdLevel)
                    : WriteRaw(symbols, destination[position..]);
                if (length < 0)
                {
                    return -1;
                }

                WriteEntry(destination, table, plane, mode, length);
                position += length;
                if (position >= raw.Length)
                {
                    return -1;
                }
            }

            return position;
        }
        finally
        {
            CodecScratch.Pool.Return(scratch);
        }
    }

    /// <summary>Decodes a blob written by <see cref="Encode"/> into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidDataException">The encoded bytes are malformed or do not decode to what was encoded.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, int width, Span<byte> destination)
    {
        if (encoded.Length < HeaderSize || encoded[0] != Version)
        {
            throw new InvalidDataException(encoded.Length < HeaderSize ? "float plane blob is shorter than its header" : $"float plane blob has unknown version {encoded[0]}");
        }

        var phase = encoded[1];
        if (phase >= width || destination.Length < phase + width)
        {
            throw new InvalidDataException($"float plane blob has phase {phase}, impossible for {destination.Length} bytes of {width}-byte values");
        }

        var count = (destination.Length - phase) / width;
        var tail = destination.Length - phase - (count * width);
        var table = HeaderSize + phase + tail;
        var position = table + (TableEntry * width);
        if (encoded.Length < position)
        {
            throw new InvalidDataException("float plane blob is truncated");
        }

        encoded.Slice(HeaderSize, phase).CopyTo(destination);
        encoded.Slice(HeaderSize + phase, tail).CopyTo(destination[^tail..]);
        var scratch = CodecScratch.Pool.Rent(Math.Max(1, count * width));
        try
        {
            // Raw planes are merged straight from the blob; the others are decoded into scratch first.
            var planes = new PlaneSource[width];
            for (var plane = width - 1; plane >= 0; plane--)
            {
                var mode = (PlaneMode)encoded[table + (plane * TableEntry)];
                var length = BinaryPrimitives.ReadUInt32LittleEndian(encoded[(table + (plane * TableEntry) + 1)..]);
                if (length > (uint)(encoded.Length - position))
                {
                    throw new InvalidDataException("float plane length runs past the blob");
                }

                planes[plane] = new PlaneSource(mode, position, (int)length);
                DecodePlane(mode, encoded.Slice(position, (int)length), scratch.AsSpan(plane * count, count));
                position += (int)length;
            }

            if (position != encoded.Length)
            {
                throw new InvalidDataException("float plane blob has bytes after its last plane");
            }

            ReadOnlySpan<byte> Source(int plane, ReadOnlySpan<byte> blob, byte[] decoded) => planes[plane].Mode == PlaneMode.Raw
                ? blob.Slice(planes[plane].Offset, count)
                : decoded.AsSpan(plane * count, count);

            var values = destination.Slice(phase, count * width);
            if (width == 4)
            {
                PlaneSplitter.Merge4(Source(0, encoded, scratch), Source(1, encoded, scratch), Source(2, encoded, scratch), Source(3, encoded, scratch), values);
            }
            else
            {
                PlaneSplitter.Merge2(Source(0, encoded, scratch), Source(1, encoded, scratch), values);
            }
        }
        finally
        {
            CodecScratch.Pool.Return(scratch);
        }

        if (XxHash3.HashToUInt64(destination) != BinaryPrimitives.ReadUInt64LittleEndian(encoded[2..]))
        {
            throw new InvalidDataException("float plane blob does not decode to the bytes it was made from (checksum mismatch)");
        }
    }

    // Planes below inPlace are split into scratch; the others straight into their place among the payloads.
    private static Span<byte> Target(int plane, int width, int count, int inPlace, Span<byte> scratch, Span<byte> placed) =>
        plane < inPlace ? scratch.Slice(plane * count, count) : placed.Slice((width - 1 - plane) * count, count);

    private static void WriteEntry(Span<byte> destination, int table, int plane, PlaneMode mode, int length)
    {
        destination[table + (plane * TableEntry)] = (byte)mode;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(table + (plane * TableEntry) + 1)..], (uint)length);
    }

    /// <summary>Stores a plane in the smallest of constant, zstd, Huffman or raw; returns the mode and length (-1: does not fit).</summary>
    internal static (PlaneMode Mode, int Length) EncodePlane(ReadOnlySpan<byte> plane, Span<byte> destination, int zstdLevel)
    {
        Span<long> histogram = stackalloc long[256];
        ByteHistogram.Count(plane, histogram);
        Span<byte> lengths = stackalloc byte[256];
        var (mode, length) = Decide(plane, histogram, destination, zstdLevel, lengths);
        return mode switch
        {
            PlaneMode.Raw => WriteRaw(plane, destination),
            PlaneMode.Huffman => (mode, HuffmanCoder.Encode(plane, lengths, destination)),
            _ => (mode, length),
        };
    }

    /// <summary>
    /// The choice <see cref="EncodePlane"/> makes, with the Huffman and raw payloads left unwritten (constant and zstd
    /// payloads are written): returns the mode and the exact length (-1: does not fit) and, for Huffman, the code
    /// lengths <see cref="WriteChosen"/> codes with. For an encoder that may still find something smaller.
    /// </summary>
    [SkipLocalsInit]
    internal static (PlaneMode Mode, int Length) ChoosePlane(ReadOnlySpan<byte> plane, Span<byte> destination, int zstdLevel, Span<byte> lengths)
    {
        Span<long> streams = stackalloc long[HuffmanCoder.StreamHistogramsLength];
        HuffmanCoder.CountStreams(plane, streams);
        Span<long> histogram = stackalloc long[256];
        for (var s = 0; s < 256; s++)
        {
            histogram[s] = streams[s] + streams[256 + s] + streams[512 + s] + streams[768 + s];
        }

        var (mode, length) = Decide(plane, histogram, destination, zstdLevel, lengths);
        return mode == PlaneMode.Huffman ? (mode, HuffmanCoder.EncodedLength(streams, lengths)) : (mode, length);
    }

    // The choice of a plane's mode from its histogram: constant and zstd payloads are written here; raw and Huffman
    // are only chosen (raw with its length or -1, Huffman with its code lengths in lengths), for the caller to write.
    private static (PlaneMode Mode, int Length) Decide(ReadOnlySpan<byte> plane, ReadOnlySpan<long> histogram, Span<byte> destination, int zstdLevel,
        Span<byte> lengths)
    {
        var distinct = 0;
        var top = 0L;
        foreach (var n in histogram)
        {
            distinct += n > 0 ? 1 : 0;
            top = Math.Max(top, n);
        }

        if (distinct == 1)
        {
            if (destination.IsEmpty)
            {
                return (PlaneMode.Constant, -1);
            }

            destination[0] = plane[0];
            return (PlaneMode.Constant, 1);
        }

        HuffmanCoder.BuildLengths(histogram, lengths);
        var huffmanBound = HuffmanCoder.MaxEncodedLength(HuffmanCoder.CodedBits(histogram, lengths));

        // A dominant symbol means runs that zstd codes below Huffman's one bit per value.
        if (top > plane.Length / 2)
        {
            var zstd = TryZstd(plane, destination, zstdLevel, huffmanBound);
            if (zstd > 0)
            {
                return (PlaneMode.Zstd, zstd);
            }
        }

        // Huffman is worth its decoding time only when it saves more than about 1.5% of the plane.
        if (huffmanBound >= plane.Length - (plane.Length / 64) || huffmanBound > destination.Length)
        {
            return (PlaneMode.Raw, plane.Length > destination.Length ? -1 : plane.Length);
        }

        return (PlaneMode.Huffman, 0);
    }

    /// <summary>Writes the raw or Huffman payload <see cref="ChoosePlane"/> chose (its other payloads are written already).</summary>
    internal static void WriteChosen(PlaneMode mode, ReadOnlySpan<byte> plane, ReadOnlySpan<byte> lengths, Span<byte> destination, int length)
    {
        if (mode == PlaneMode.Raw)
        {
            plane.CopyTo(destination);
        }
        else if (mode == PlaneMode.Huffman && HuffmanCoder.Encode(plane, lengths, destination) != length)
        {
            throw new InvalidOperationException("Huffman payload differs in length from the length its histograms give");
        }
    }

    private static int TryZstd(ReadOnlySpan<byte> plane, Span<byte> destination, int level, long mustBeat)
    {
        var scratch = CodecScratch.Pool.Rent(ZstdFrames.MaxLength(plane.Length));
        try
        {
            var length = ZstdFrames.Compress(plane, scratch, level);
            if (length >= mustBeat || length > destination.Length)
            {
                return -1;
            }

            scratch.AsSpan(0, length).CopyTo(destination);
            return length;
        }
        finally
        {
            CodecScratch.Pool.Return(scratch);
        }
    }

    /// <summary>Stores a plane raw; length -1 when it does not fit.</summary>
    internal static (PlaneMode Mode, int Length) WriteRaw(ReadOnlySpan<byte> plane, Span<byte> destination)
    {
        if (plane.Length > destination.Length)
        {
            return (PlaneMode.Raw, -1);
        }

        plane.CopyTo(destination);
        return (PlaneMode.Raw, plane.Length);
    }

    /// <summary>Decodes a plane payload of modes 0 to 3 (raw payloads are only checked, not copied).</summary>
    internal static void DecodePlane(PlaneMode mode, ReadOnlySpan<byte> payload, Span<byte> plane)
    {
        switch (mode)
        {
            case PlaneMode.Raw:
                if (payload.Length != plane.Length)
                {
                    throw new InvalidDataException("raw float plane has the wrong length");
                }

                break;
            case PlaneMode.Constant:
                if (payload.Length != 1)
                {
                    throw new InvalidDataException("constant float plane has the wrong length");
                }

                plane.Fill(payload[0]);
                break;
            case PlaneMode.Huffman:
                HuffmanCoder.Decode(payload, plane);
                break;
            case PlaneMode.Zstd:
                ZstdFrames.Decompress(payload, plane);
                break;
            default:
                throw new InvalidDataException($"float plane has unknown mode {(byte)mode}");
        }
    }

    // Entropy of one plane over about SampleTarget values spread across the blob, read from the values themselves.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SampledEntropy(ReadOnlySpan<byte> values, int width, int plane)
    {
        Span<long> histogram = stackalloc long[256];
        var count = values.Length / width;
        var stride = Math.Max(1, count / SampleTarget);
        long total = 0;
        for (var i = 0; i < count; i += stride)
        {
            var value = values.Slice(i * width, width);
            int top = value[width - 1], next = value[width - 2];
            var symbol = plane switch
            {
                0 => ((top << 1) | (next >> 7)) & 0xFF,
                1 => (top & 0x80) | (next & 0x7F),
                _ => value[width - 1 - plane],
            };
            histogram[symbol]++;
            total++;
        }

        return ByteHistogram.Entropy(histogram, total);
    }

    private readonly record struct PlaneSource(PlaneMode Mode, int Offset, int Length);
}
