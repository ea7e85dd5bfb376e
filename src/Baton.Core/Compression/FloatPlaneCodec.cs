using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Baton.Compression;

/// <summary>
/// Lossless coding of IEEE-like floats (float32: width 4; bfloat16/float16: width 2) split into byte planes: plane 0
/// holds each value's exact 8 exponent bits (float32 bits 30..23, 16-bit bits 14..7), plane 1 the sign and the top 7
/// mantissa bits, planes 2.. the remaining mantissa bytes, high to low. Each plane is stored raw, as one repeated
/// byte, Huffman-coded or as a zstd frame, whichever is smallest for the effort. Values start <c>phase</c> bytes
/// into the blob (chunks are cut anywhere, not on value boundaries); the bytes before and the odd bytes after the
/// last whole value are stored as they are.
/// </summary>
/// <remarks>
/// Layout: <c>version (u8 = 1) | phase (u8) | XXH3-64 of the raw bytes (u64 LE) | leading bytes | trailing bytes |
/// plane 0 .. plane width-1</c>; a plane is <c>mode (u8)</c> then: raw: the bytes; constant: one byte;
/// Huffman or zstd: <c>length (u32 LE) | payload</c>. The count of values follows from the raw length, which the pack
/// records.
/// </remarks>
internal static class FloatPlaneCodec
{
    /// <summary>Bytes before the leading bytes.</summary>
    public const int HeaderSize = 10;

    private const byte Version = 1;
    private const int SampleTarget = 4096;

    private enum PlaneMode : byte
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
        var planes = ArrayPool<byte>.Shared.Rent(count * width);
        try
        {
            Split(raw.Slice(phase, count * width), width, planes.AsSpan(0, count * width));
            var position = HeaderSize + phase + tail;
            if (position + width > destination.Length)
            {
                return -1;
            }

            destination[0] = Version;
            destination[1] = (byte)phase;
            BinaryPrimitives.WriteUInt64LittleEndian(destination[2..], XxHash3.HashToUInt64(raw));
            raw[..phase].CopyTo(destination[HeaderSize..]);
            raw[^tail..].CopyTo(destination[(HeaderSize + phase)..]);
            for (var plane = 0; plane < width; plane++)
            {
                var written = EncodePlane(planes.AsSpan(plane * count, count), plane < 2, destination[position..], zstdLevel);
                if (written < 0)
                {
                    return -1;
                }

                position += written;
                if (position >= raw.Length)
                {
                    return -1;
                }
            }

            return position;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(planes);
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
        var position = HeaderSize + phase + tail;
        if (encoded.Length < position)
        {
            throw new InvalidDataException("float plane blob is truncated");
        }

        encoded.Slice(HeaderSize, phase).CopyTo(destination);
        encoded.Slice(HeaderSize + phase, tail).CopyTo(destination[^tail..]);
        var planes = ArrayPool<byte>.Shared.Rent(count * width);
        try
        {
            for (var plane = 0; plane < width; plane++)
            {
                position += DecodePlane(encoded[position..], planes.AsSpan(plane * count, count));
            }

            if (position != encoded.Length)
            {
                throw new InvalidDataException("float plane blob has bytes after its last plane");
            }

            Merge(planes.AsSpan(0, count * width), width, destination.Slice(phase, count * width));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(planes);
        }

        if (XxHash3.HashToUInt64(destination) != BinaryPrimitives.ReadUInt64LittleEndian(encoded[2..]))
        {
            throw new InvalidDataException("float plane blob does not decode to the bytes it was made from (checksum mismatch)");
        }
    }

    private static int EncodePlane(ReadOnlySpan<byte> plane, bool likelyCompressible, Span<byte> destination, int zstdLevel)
    {
        // Mantissa bytes are close to uniform in trained weights: a sample says so before a full pass is spent.
        if (!likelyCompressible && SampledEntropy(plane) > 7.8)
        {
            return WriteRaw(plane, destination);
        }

        Span<long> histogram = stackalloc long[256];
        ByteHistogram.Count(plane, histogram);
        var distinct = 0;
        var top = 0L;
        foreach (var n in histogram)
        {
            distinct += n > 0 ? 1 : 0;
            top = Math.Max(top, n);
        }

        if (distinct == 1)
        {
            if (destination.Length < 2)
            {
                return -1;
            }

            destination[0] = (byte)PlaneMode.Constant;
            destination[1] = plane[0];
            return 2;
        }

        Span<byte> lengths = stackalloc byte[256];
        HuffmanCoder.BuildLengths(histogram, lengths);
        var bits = HuffmanCoder.CodedBits(histogram, lengths);
        var huffmanBound = HuffmanCoder.MaxEncodedLength(bits);

        // A dominant symbol means runs that zstd codes below Huffman's one bit per value.
        if (top > plane.Length / 2)
        {
            var zstd = TryZstd(plane, destination, zstdLevel, huffmanBound);
            if (zstd > 0)
            {
                return zstd;
            }
        }

        // Huffman is worth its decoding time only when it saves more than about 1.5% of the plane.
        if (huffmanBound >= plane.Length - (plane.Length / 64) || 5 + huffmanBound > destination.Length)
        {
            return WriteRaw(plane, destination);
        }

        destination[0] = (byte)PlaneMode.Huffman;
        var length = HuffmanCoder.Encode(plane, lengths, destination[5..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], (uint)length);
        return 5 + length;
    }

    private static int TryZstd(ReadOnlySpan<byte> plane, Span<byte> destination, int level, long mustBeat)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(ZstdFrames.MaxLength(plane.Length));
        try
        {
            var length = ZstdFrames.Compress(plane, scratch, level);
            if (length >= mustBeat || 5 + length > destination.Length)
            {
                return -1;
            }

            destination[0] = (byte)PlaneMode.Zstd;
            BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], (uint)length);
            scratch.AsSpan(0, length).CopyTo(destination[5..]);
            return 5 + length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static int WriteRaw(ReadOnlySpan<byte> plane, Span<byte> destination)
    {
        if (1 + plane.Length > destination.Length)
        {
            return -1;
        }

        destination[0] = (byte)PlaneMode.Raw;
        plane.CopyTo(destination[1..]);
        return 1 + plane.Length;
    }

    private static int DecodePlane(ReadOnlySpan<byte> encoded, Span<byte> plane)
    {
        if (encoded.IsEmpty)
        {
            throw new InvalidDataException("float plane blob is truncated");
        }

        switch ((PlaneMode)encoded[0])
        {
            case PlaneMode.Raw:
                if (encoded.Length < 1 + plane.Length)
                {
                    throw new InvalidDataException("float plane blob is truncated");
                }

                encoded.Slice(1, plane.Length).CopyTo(plane);
                return 1 + plane.Length;
            case PlaneMode.Constant:
                if (encoded.Length < 2)
                {
                    throw new InvalidDataException("float plane blob is truncated");
                }

                plane.Fill(encoded[1]);
                return 2;
            case PlaneMode.Huffman:
            case PlaneMode.Zstd:
                if (encoded.Length < 5)
                {
                    throw new InvalidDataException("float plane blob is truncated");
                }

                var length = BinaryPrimitives.ReadUInt32LittleEndian(encoded[1..]);
                if (length > (uint)(encoded.Length - 5))
                {
                    throw new InvalidDataException("float plane length runs past the blob");
                }

                var payload = encoded.Slice(5, (int)length);
                if ((PlaneMode)encoded[0] == PlaneMode.Huffman)
                {
                    HuffmanCoder.Decode(payload, plane);
                }
                else
                {
                    ZstdFrames.Decompress(payload, plane);
                }

                return 5 + (int)length;
            default:
                throw new InvalidDataException($"float plane has unknown mode {encoded[0]}");
        }
    }

    private static double SampledEntropy(ReadOnlySpan<byte> plane)
    {
        Span<long> histogram = stackalloc long[256];
        var stride = Math.Max(1, plane.Length / SampleTarget);
        long total = 0;
        for (var i = 0; i < plane.Length; i += stride)
        {
            histogram[plane[i]]++;
            total++;
        }

        return ByteHistogram.Entropy(histogram, total);
    }

    private static void Split(ReadOnlySpan<byte> values, int width, Span<byte> planes)
    {
        var count = values.Length / width;
        ref var input = ref MemoryMarshal.GetReference(values);
        ref var output = ref MemoryMarshal.GetReference(planes);
        if (width == 4)
        {
            for (var i = 0; i < count; i++)
            {
                var v = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref input, i * 4));
                v = BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
                Unsafe.Add(ref output, i) = (byte)(v >> 23);
                Unsafe.Add(ref output, count + i) = (byte)(((v >> 24) & 0x80) | ((v >> 16) & 0x7F));
                Unsafe.Add(ref output, (2 * count) + i) = (byte)(v >> 8);
                Unsafe.Add(ref output, (3 * count) + i) = (byte)v;
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                var v = (uint)Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref input, i * 2));
                v = BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness((ushort)v);
                Unsafe.Add(ref output, i) = (byte)(v >> 7);
                Unsafe.Add(ref output, count + i) = (byte)(((v >> 8) & 0x80) | (v & 0x7F));
            }
        }
    }

    private static void Merge(ReadOnlySpan<byte> planes, int width, Span<byte> values)
    {
        var count = values.Length / width;
        ref var input = ref MemoryMarshal.GetReference(planes);
        ref var output = ref MemoryMarshal.GetReference(values);
        if (width == 4)
        {
            for (var i = 0; i < count; i++)
            {
                uint e = Unsafe.Add(ref input, i);
                uint s = Unsafe.Add(ref input, count + i);
                uint m1 = Unsafe.Add(ref input, (2 * count) + i);
                uint m0 = Unsafe.Add(ref input, (3 * count) + i);
                var v = ((s & 0x80) << 24) | (e << 23) | ((s & 0x7F) << 16) | (m1 << 8) | m0;
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref output, i * 4), BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v));
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                uint e = Unsafe.Add(ref input, i);
                uint s = Unsafe.Add(ref input, count + i);
                var v = (ushort)(((s & 0x80) << 8) | (e << 7) | (s & 0x7F));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref output, i * 2), BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v));
            }
        }
    }
}
