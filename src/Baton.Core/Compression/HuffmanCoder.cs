using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Baton.Compression;

/// <summary>
/// A static, canonical, order-0 Huffman coder over bytes with codes of at most <see cref="MaxCodeLength"/> bits.
/// The symbols are cut into four equal runs, each coded into its own bit stream, so that the decoder can work on
/// four independent streams at once. Layout (docs/PERFORMANCE.md, "Codec layouts"):
/// <c>code lengths (128 bytes, one nibble per symbol, even symbols in the low nibble) | length of streams 0..2
/// (3 x u32 LE) | stream 0 | stream 1 | stream 2 | stream 3</c>; bits are packed least significant first.
/// </summary>
internal static class HuffmanCoder
{
    /// <summary>The longest code; also the width of the decoding table's index.</summary>
    public const int MaxCodeLength = 11;

    /// <summary>Bytes before the first stream: the code lengths and three stream lengths.</summary>
    public const int HeaderSize = 128 + 12;

    private const int TableSize = 1 << MaxCodeLength;
    private const int Streams = 4;

    /// <summary>
    /// Computes length-limited code lengths for a histogram with at least two distinct symbols. Frequencies are
    /// halved until the optimal code fits in <see cref="MaxCodeLength"/> bits, which always ends (256 symbols fit).
    /// </summary>
    public static void BuildLengths(ReadOnlySpan<long> histogram, Span<byte> lengths)
    {
        Span<long> scaled = stackalloc long[256];
        for (var s = 0; s < 256; s++)
        {
            scaled[s] = histogram[s];
        }

        while (!TryBuildLengths(scaled, lengths))
        {
            for (var s = 0; s < 256; s++)
            {
                if (scaled[s] > 0)
                {
                    scaled[s] = Math.Max(1, scaled[s] >> 1);
                }
            }
        }
    }

    /// <summary>Total bits of the coded symbols (without the header or stream padding).</summary>
    public static long CodedBits(ReadOnlySpan<long> histogram, ReadOnlySpan<byte> lengths)
    {
        long bits = 0;
        for (var s = 0; s < 256; s++)
        {
            bits += histogram[s] * lengths[s];
        }

        return bits;
    }

    /// <summary>An upper bound of <see cref="Encode"/>'s output for symbols that code into <paramref name="codedBits"/>.</summary>
    public static long MaxEncodedLength(long codedBits) => HeaderSize + (codedBits / 8) + Streams + 8;

    /// <summary>Entries of the per-stream histograms <see cref="CountStreams"/> fills: 256 per stream.</summary>
    public const int StreamHistogramsLength = 256 * Streams;

    /// <summary>Counts the symbols of each of the four streams <see cref="Encode"/> cuts them into, 256 entries per stream.</summary>
    public static void CountStreams(ReadOnlySpan<byte> symbols, Span<long> histograms)
    {
        var segment = SegmentLength(symbols.Length);
        for (var stream = 0; stream < Streams; stream++)
        {
            var start = Math.Min(symbols.Length, stream * segment);
            var end = Math.Min(symbols.Length, start + segment);
            ByteHistogram.Count(symbols[start..end], histograms.Slice(stream * 256, 256));
        }
    }

    /// <summary>Exactly what <see cref="Encode"/> returns for symbols with these per-stream histograms (<see cref="CountStreams"/>).</summary>
    public static int EncodedLength(ReadOnlySpan<long> histograms, ReadOnlySpan<byte> lengths)
    {
        long length = HeaderSize;
        for (var stream = 0; stream < Streams; stream++)
        {
            length += (CodedBits(histograms.Slice(stream * 256, 256), lengths) + 7) / 8;
        }

        return (int)length;
    }

    /// <summary>
    /// Codes <paramref name="symbols"/> with the given lengths into <paramref name="destination"/>, which must hold
    /// <see cref="MaxEncodedLength"/> bytes, and returns the bytes written.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> lengths, Span<byte> destination)
    {
        for (var s = 0; s < 128; s++)
        {
            destination[s] = (byte)(lengths[2 * s] | (lengths[(2 * s) + 1] << 4));
        }

        Span<uint> codes = stackalloc uint[256];
        AssignCodes(lengths, codes);
        var segment = SegmentLength(symbols.Length);
        var position = HeaderSize;
        for (var stream = 0; stream < Streams; stream++)
        {
            var start = Math.Min(symbols.Length, stream * segment);
            var end = Math.Min(symbols.Length, start + segment);
            var written = EncodeStream(symbols[start..end], codes, destination[position..]);
            if (stream < Streams - 1)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination[(128 + (4 * stream))..], (uint)written);
            }

            position += written;
        }

        return position;
    }

    /// <summary>Decodes exactly <paramref name="symbols"/>.Length symbols from a whole encoded plane.</summary>
    /// <exception cref="InvalidDataException">The code table or a stream is malformed.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, Span<byte> symbols)
    {
        if (encoded.Length < HeaderSize)
        {
            throw new InvalidDataException("Huffman plane is shorter than its header");
        }

        Span<ushort> table = stackalloc ushort[TableSize];
        BuildDecodeTable(encoded[..128], table);
        Span<int> starts = stackalloc int[Streams + 1];
        starts[0] = HeaderSize;
        for (var stream = 0; stream < Streams - 1; stream++)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(encoded[(128 + (4 * stream))..]);
            if (length > (uint)(encoded.Length - starts[stream]))
            {
                throw new InvalidDataException("Huffman stream length runs past the plane");
            }

            starts[stream + 1] = starts[stream] + (int)length;
        }

        starts[Streams] = encoded.Length;
        var segment = SegmentLength(symbols.Length);
        Span<long> positions = stackalloc long[Streams];
        for (var stream = 0; stream < Streams; stream++)
        {
            positions[stream] = (long)starts[stream] * 8;
        }

        var done = DecodeInterleaved(encoded, table, symbols, positions, starts, segment);
        for (var stream = 0; stream < Streams; stream++)
        {
            var first = Math.Min(symbols.Length, stream * segment);
            var last = Math.Min(symbols.Length, first + segment);
            DecodeRest(encoded, table, symbols, positions[stream], starts[stream + 1], first + done, last);
        }
    }

    private static int SegmentLength(int count) => (count + Streams - 1) / Streams;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int EncodeStream(ReadOnlySpan<byte> symbols, ReadOnlySpan<uint> codes, Span<byte> destination)
    {
        ref var output = ref MemoryMarshal.GetReference(destination);
        ref var input = ref MemoryMarshal.GetReference(symbols);
        ref var table = ref MemoryMarshal.GetReference(codes);
        ulong buffer = 0;
        var bits = 0;
        var position = 0;
        var i = 0;

        // Four codes of at most 11 bits on top of at most 7 pending bits fit in 64; then whole bytes are flushed.
        // The caller guarantees 8 spare bytes past the coded size, so the unaligned 8-byte stores stay inside.
        for (; i + 4 <= symbols.Length; i += 4)
        {
            var c0 = Unsafe.Add(ref table, Unsafe.Add(ref input, i));
            var c1 = Unsafe.Add(ref table, Unsafe.Add(ref input, i + 1));
            var c2 = Unsafe.Add(ref table, Unsafe.Add(ref input, i + 2));
            var c3 = Unsafe.Add(ref table, Unsafe.Add(ref input, i + 3));
            buffer |= (ulong)(c0 & 0xFFFF) << bits;
            bits += (int)(c0 >> 16);
            buffer |= (ulong)(c1 & 0xFFFF) << bits;
            bits += (int)(c1 >> 16);
            buffer |= (ulong)(c2 & 0xFFFF) << bits;
            bits += (int)(c2 >> 16);
            buffer |= (ulong)(c3 & 0xFFFF) << bits;
            bits += (int)(c3 >> 16);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref output, position), BitConverter.IsLittleEndian ? buffer : BinaryPrimitives.ReverseEndianness(buffer));
            position += bits >> 3;
            buffer >>= bits & ~7;
            bits &= 7;
        }

        for (; i < symbols.Length; i++)
        {
            var c = Unsafe.Add(ref table, Unsafe.Add(ref input, i));
            buffer |= (ulong)(c & 0xFFFF) << bits;
            bits += (int)(c >> 16);
            while (bits >= 8)
            {
                destination[position++] = (byte)buffer;
                buffer >>= 8;
                bits -= 8;
            }
        }

        if (bits > 0)
        {
            destination[position++] = (byte)buffer;
        }

        return position;
    }

    // Decodes the four streams in lockstep, five symbols per stream per step from one unaligned 8-byte read each,
    // while every stream has 8 readable bytes left and all four have symbols left. Returns symbols done per stream.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeInterleaved(ReadOnlySpan<byte> encoded, ReadOnlySpan<ushort> table, Span<byte> symbols, Span<long> positions, ReadOnlySpan<int> starts, int segment)
    {
        ref var input = ref MemoryMarshal.GetReference(encoded);
        ref var lookup = ref MemoryMarshal.GetReference(table);
        ref var o0 = ref MemoryMarshal.GetReference(symbols);
        ref var o1 = ref Unsafe.Add(ref o0, Math.Min(symbols.Length, segment));
        ref var o2 = ref Unsafe.Add(ref o0, Math.Min(symbols.Length, 2 * segment));
        ref var o3 = ref Unsafe.Add(ref o0, Math.Min(symbols.Length, 3 * segment));
        var lockstep = Math.Max(0, symbols.Length - (3 * segment));
        long p0 = positions[0], p1 = positions[1], p2 = positions[2], p3 = positions[3];
        long l0 = (starts[1] - 8L) * 8, l1 = (starts[2] - 8L) * 8, l2 = (starts[3] - 8L) * 8, l3 = (starts[4] - 8L) * 8;
        var i = 0;
        while (i + 5 <= lockstep && p0 <= l0 && p1 <= l1 && p2 <= l2 && p3 <= l3)
        {
            var b0 = Read(ref input, p0);
            var b1 = Read(ref input, p1);
            var b2 = Read(ref input, p2);
            var b3 = Read(ref input, p3);
            for (var k = 0; k < 5; k++, i++)
            {
                var e0 = Unsafe.Add(ref lookup, (int)(b0 & (TableSize - 1)));
                var e1 = Unsafe.Add(ref lookup, (int)(b1 & (TableSize - 1)));
                var e2 = Unsafe.Add(ref lookup, (int)(b2 & (TableSize - 1)));
                var e3 = Unsafe.Add(ref lookup, (int)(b3 & (TableSize - 1)));
                Unsafe.Add(ref o0, i) = (byte)e0;
                Unsafe.Add(ref o1, i) = (byte)e1;
                Unsafe.Add(ref o2, i) = (byte)e2;
                Unsafe.Add(ref o3, i) = (byte)e3;
                b0 >>= e0 >> 8;
                b1 >>= e1 >> 8;
                b2 >>= e2 >> 8;
                b3 >>= e3 >> 8;
                p0 += e0 >> 8;
                p1 += e1 >> 8;
                p2 += e2 >> 8;
                p3 += e3 >> 8;
            }
        }

        positions[0] = p0;
        positions[1] = p1;
        positions[2] = p2;
        positions[3] = p3;
        return i;
    }

    // 57 or more valid bits starting at bit position p; the caller made sure 8 bytes are readable there.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read(ref byte input, long position)
    {
        var word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref input, (nint)(position >> 3)));
        return (BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word)) >> (int)(position & 7);
    }

    // Decodes one stream's remaining symbols with bounds checks, then checks the stream was used up exactly: what
    // is left must be the last byte's zero padding.
    private static void DecodeRest(ReadOnlySpan<byte> encoded, ReadOnlySpan<ushort> table, Span<byte> symbols, long position, int end, int from, int to)
    {
        for (var o = from; o < to; o++)
        {
            var index = (int)(position >> 3);
            var available = Math.Min(8, end - index);
            ulong buffer = 0;
            for (var j = 0; j < available; j++)
            {
                buffer |= (ulong)encoded[index + j] << (8 * j);
            }

            var shift = (int)(position & 7);
            var entry = table[(int)((buffer >> shift) & (TableSize - 1))];
            var length = entry >> 8;
            if (length > (available * 8) - shift)
            {
                throw new InvalidDataException("Huffman stream ends before its last symbol");
            }

            symbols[o] = (byte)entry;
            position += length;
        }

        var used = (int)((position + 7) >> 3);
        if (used != end || ((position & 7) != 0 && (encoded[end - 1] >> (int)(position & 7)) != 0))
        {
            throw new InvalidDataException("Huffman stream has bytes past its last symbol");
        }
    }

    private static bool TryBuildLengths(ReadOnlySpan<long> histogram, Span<byte> lengths)
    {
        // Classic two-queue Huffman over the symbols sorted by frequency; nodes 0..n-1 are leaves.
        Span<int> order = stackalloc int[256];
        var n = 0;
        for (var s = 0; s < 256; s++)
        {
            if (histogram[s] > 0)
            {
                order[n++] = s;
            }
        }

        lengths.Clear();
        if (n < 2)
        {
            throw new ArgumentException("a Huffman code needs at least two distinct symbols", nameof(histogram));
        }

        var sorted = order[..n];
        for (var i = 1; i < n; i++)
        {
            var s = sorted[i];
            var j = i - 1;
            while (j >= 0 && histogram[sorted[j]] > histogram[s])
            {
                sorted[j + 1] = sorted[j];
                j--;
            }

            sorted[j + 1] = s;
        }

        Span<long> weight = stackalloc long[511];
        Span<int> parent = stackalloc int[511];
        for (var i = 0; i < n; i++)
        {
            weight[i] = histogram[sorted[i]];
        }

        int leaf = 0, inner = n, next = n;
        for (var k = 0; k < n - 1; k++)
        {
            var a = PickSmallest(weight, ref leaf, n, ref inner, next);
            var b = PickSmallest(weight, ref leaf, n, ref inner, next);
            weight[next] = weight[a] + weight[b];
            parent[a] = next;
            parent[b] = next;
            next++;
        }

        Span<int> depth = stackalloc int[511];
        depth[next - 1] = 0;
        for (var node = next - 2; node >= 0; node--)
        {
            depth[node] = depth[parent[node]] + 1;
            if (node < n && depth[node] > MaxCodeLength)
            {
                return false;
            }
        }

        for (var i = 0; i < n; i++)
        {
            lengths[sorted[i]] = (byte)depth[i];
        }

        return true;
    }

    private static int PickSmallest(Span<long> weight, ref int leaf, int leaves, ref int inner, int innerEnd)
    {
        if (leaf < leaves && (inner >= innerEnd || weight[leaf] <= weight[inner]))
        {
            return leaf++;
        }

        return inner++;
    }

    // Canonical codes, bit-reversed for the least-significant-first stream; entry = code | length << 16.
    private static void AssignCodes(ReadOnlySpan<byte> lengths, Span<uint> codes)
    {
        Span<int> count = stackalloc int[MaxCodeLength + 1];
        foreach (var length in lengths)
        {
            count[length]++;
        }

        count[0] = 0;
        Span<int> nextCode = stackalloc int[MaxCodeLength + 2];
        var code = 0;
        for (var length = 1; length <= MaxCodeLength; length++)
        {
            code = (code + count[length - 1]) << 1;
            nextCode[length] = code;
        }

        for (var s = 0; s < 256; s++)
        {
            var length = lengths[s];
            codes[s] = length == 0 ? 0 : Reverse((uint)nextCode[length]++, length) | ((uint)length << 16);
        }
    }

    private static void BuildDecodeTable(ReadOnlySpan<byte> packedLengths, Span<ushort> table)
    {
        Span<byte> lengths = stackalloc byte[256];
        var kraft = 0;
        for (var s = 0; s < 256; s++)
        {
            var length = (packedLengths[s >> 1] >> ((s & 1) * 4)) & 0xF;
            if (length > MaxCodeLength)
            {
                throw new InvalidDataException($"Huffman code length {length} exceeds {MaxCodeLength}");
            }

            lengths[s] = (byte)length;
            if (length > 0)
            {
                kraft += TableSize >> length;
            }
        }

        // Only a complete code fills every table slot; anything else cannot have come from the encoder.
        if (kraft != TableSize)
        {
            throw new InvalidDataException("Huffman code lengths do not form a complete code");
        }

        Span<uint> codes = stackalloc uint[256];
        AssignCodes(lengths, codes);
        for (var s = 0; s < 256; s++)
        {
            var length = (int)(codes[s] >> 16);
            if (length == 0)
            {
                continue;
            }

            var entry = (ushort)(s | (length << 8));
            for (var slot = (int)(codes[s] & 0xFFFF); slot < TableSize; slot += 1 << length)
            {
                table[slot] = entry;
            }
        }
    }

    private static uint Reverse(uint code, int length)
    {
        uint reversed = 0;
        for (var i = 0; i < length; i++)
        {
            reversed = (reversed << 1) | ((code >> i) & 1);
        }

        return reversed;
    }
}
