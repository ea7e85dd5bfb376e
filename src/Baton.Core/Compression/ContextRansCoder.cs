using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Baton.Compression;

/// <summary>
/// A static rANS coder over bytes whose probabilities depend on a conditioning byte: symbol k is coded with the table
/// of context <c>map[condition(k)]</c>, where condition(k) mixes bits of the symbol before it with the exponent of
/// its value (<see cref="Condition"/>). Neighbouring float values share their scale, so an exponent coded under the previous exponent, or a
/// mantissa under its own exponent, costs fewer bits than under one table for all. Unlike Huffman, rANS codes a
/// symbol in its fractional information content, which matters for exponents where one symbol is more than half.
/// Layout (docs/FORMAT.md, "Context rANS payload"): <c>K (u16 LE) | map (256 bytes) | K tables | state (u32 LE) |
/// stream bytes</c>; a table is a 32-byte bitmap of the symbols present, then each one's frequency in symbol order (one
/// byte 1..254, or 255 and a u16 LE), at least 1 and summing to <see cref="Total"/>.
/// </summary>
internal static class ContextRansCoder
{
    /// <summary>Frequencies of a table sum to this.</summary>
    public const int Total = 1 << ScaleBits;

    private const int ScaleBits = 12;
    private const uint Lower = 1u << 23;

    // A conditioning byte value with fewer symbols than this shares the one catch-all context without a trial.
    private const int OwnContextMinimum = 512;

    /// <summary>
    /// Codes <paramref name="symbols"/> into <paramref name="destination"/> and returns the bytes written, or -1 when
    /// the result would not be shorter than <paramref name="mustBeat"/> bytes or would not fit.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> exponents, byte previousMask, Span<byte> destination, long mustBeat)
    {
        var count = symbols.Length;
        var joint = ArrayPool<int>.Shared.Rent(256 * 256);
        var freq = ArrayPool<ushort>.Shared.Rent(256 * 256);
        var start = ArrayPool<ushort>.Shared.Rent(256 * 256);
        try
        {
            var counts = joint.AsSpan(0, 256 * 256);
            counts.Clear();
            for (var k = 0; k < count; k++)
            {
                counts[(Condition(symbols, exponents, previousMask, k) << 8) | symbols[k]]++;
            }

            // Context 0 is the catch-all; a conditioning value gets its own table, in value order, when the bits it
            // saves against the plane's overall distribution pay for the table.
            Span<byte> map = stackalloc byte[256];
            Span<int> merged = stackalloc int[256];
            Span<double> overallBits = stackalloc double[256];
            for (var s = 0; s < 256; s++)
            {
                long n = 0;
                for (var c = 0; c < 256; c++)
                {
                    n += counts[(c << 8) | s];
                }

                overallBits[s] = n == 0 ? 0 : -Math.Log2((double)n / count);
            }

            var contexts = 1;
            Span<int> ownOwners = stackalloc int[256];
            for (var c = 0; c < 256; c++)
            {
                var row = counts.Slice(c << 8, 256);
                var n = 0;
                foreach (var x in row)
                {
                    n += x;
                }

                if (n >= OwnContextMinimum && contexts < 256 && OwnTablePays(row, n, overallBits))
                {
                    map[c] = (byte)contexts;
                    ownOwners[contexts++] = c;
                }
                else
                {
                    map[c] = 0;
                    for (var s = 0; s < 256; s++)
                    {
                        merged[s] += row[s];
                    }
                }
            }

            // Without rare values, the catch-all holds nothing: give it the first own context's table.
            var frequencies = freq.AsSpan(0, 256 * 256);
            frequencies.Clear();
            var catchAllEmpty = IsEmpty(merged);
            Normalize(catchAllEmpty ? counts.Slice(ownOwners[1 % contexts] << 8, 256) : merged, frequencies[..256]);
            for (var context = 1; context < contexts; context++)
            {
                Normalize(counts.Slice(ownOwners[context] << 8, 256), frequencies.Slice(context << 8, 256));
            }

            // Estimated size: header, tables, coded bits.
            double bits = 0;
            long tableBytes = 2 + 256 + 4;
            for (var context = 0; context < contexts; context++)
            {
                var table = frequencies.Slice(context << 8, 256);
                tableBytes += 32;
                for (var s = 0; s < 256; s++)
                {
                    tableBytes += table[s] == 0 ? 0 : table[s] < 255 ? 1 : 3;
                }
            }

            for (var c = 0; c < 256; c++)
            {
                var table = frequencies.Slice(map[c] << 8, 256);
                var row = counts.Slice(c << 8, 256);
                for (var s = 0; s < 256; s++)
                {
                    if (row[s] > 0)
                    {
                        bits += row[s] * (ScaleBits - Math.Log2(table[s]));
                    }
                }
            }

            var estimate = tableBytes + (long)Math.Ceiling(bits / 8);
            if (estimate + 16 >= mustBeat || estimate + 16 >= destination.Length)
            {
                return -1;
            }

            // Header and tables.
            BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)contexts);
            map.CopyTo(destination[2..]);
            var position = 2 + 256;
            var starts = start.AsSpan(0, 256 * 256);
            for (var context = 0; context < contexts; context++)
            {
                var table = frequencies.Slice(context << 8, 256);
                var bitmap = destination.Slice(position, 32);
                bitmap.Clear();
                position += 32;
                ushort cumulative = 0;
                for (var s = 0; s < 256; s++)
                {
                    starts[(context << 8) + s] = cumulative;
                    if (table[s] == 0)
                    {
                        continue;
                    }

                    bitmap[s >> 3] |= (byte)(1 << (s & 7));
                    if (table[s] < 255)
                    {
                        destination[position++] = (byte)table[s];
                    }
                    else
                    {
                        destination[position] = 255;
                        BinaryPrimitives.WriteUInt16LittleEndian(destination[(position + 1)..], table[s]);
                        position += 3;
                    }

                    cumulative += table[s];
                }
            }

            var streamLength = EncodeStream(symbols, exponents, previousMask, map, frequencies, starts, destination[position..]);
            if (streamLength < 0 || position + streamLength >= mustBeat)
            {
                return -1;
            }

            return position + streamLength;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(joint);
            ArrayPool<ushort>.Shared.Return(freq);
            ArrayPool<ushort>.Shared.Return(start);
        }
    }

    /// <summary>Decodes exactly <paramref name="symbols"/>.Length symbols from a whole payload.</summary>
    /// <exception cref="InvalidDataException">The tables or the stream are malformed.</exception>
    public static void Decode(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> exponents, byte previousMask, Span<byte> symbols)
    {
        if (payload.Length < 2 + 256)
        {
            throw new InvalidDataException("context rANS payload is shorter than its header");
        }

        var contexts = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        if (contexts is < 1 or > 256)
        {
            throw new InvalidDataException($"context rANS payload has {contexts} contexts");
        }

        var map = payload.Slice(2, 256);
        foreach (var context in map)
        {
            if (context >= contexts)
            {
                throw new InvalidDataException("context rANS map names a context that has no table");
            }
        }

        if (!exponents.IsEmpty && exponents.Length < symbols.Length)
        {
            throw new ArgumentException("fewer exponents than symbols", nameof(exponents));
        }

        var slots = ArrayPool<uint>.Shared.Rent(contexts * Total);
        try
        {
            // One entry per context and slot: symbol | (frequency − 1) << 8 | (slot − start) << 20.
            var position = 2 + 256;
            for (var context = 0; context < contexts; context++)
            {
                if (position >= payload.Length)
                {
                    throw new InvalidDataException("context rANS tables run past the payload");
                }

                if (payload.Length - position < 32)
                {
                    throw new InvalidDataException("context rANS tables run past the payload");
                }

                var bitmap = payload.Slice(position, 32);
                position += 32;
                var cumulative = 0;
                for (var symbol = 0; symbol < 256; symbol++)
                {
                    if ((bitmap[symbol >> 3] & (1 << (symbol & 7))) == 0)
                    {
                        continue;
                    }

                    if (position >= payload.Length)
                    {
                        throw new InvalidDataException("context rANS tables run past the payload");
                    }

                    int frequency = payload[position++];
                    if (frequency == 255)
                    {
                        if (payload.Length - position < 2)
                        {
                            throw new InvalidDataException("context rANS tables run past the payload");
                        }

                        frequency = BinaryPrimitives.ReadUInt16LittleEndian(payload[position..]);
                        position += 2;
                        if (frequency < 255)
                        {
                            throw new InvalidDataException("context rANS table escapes a frequency below 255");
                        }
                    }

                    if (frequency == 0 || cumulative + frequency > Total)
                    {
                        throw new InvalidDataException("context rANS table is malformed");
                    }

                    var run = slots.AsSpan((context * Total) + cumulative, frequency);
                    var entry = (uint)symbol | ((uint)(frequency - 1) << 8);
                    for (var j = 0; j < run.Length; j++)
                    {
                        run[j] = entry | ((uint)j << 20);
                    }

                    cumulative += frequency;
                }

                if (cumulative != Total)
                {
                    throw new InvalidDataException("context rANS table does not sum to its total");
                }
            }

            DecodeStream(payload[position..], exponents, previousMask, map, slots, symbols);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(slots);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int EncodeStream(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> exponents, byte previousMask, ReadOnlySpan<byte> map,
        ReadOnlySpan<ushort> frequencies, ReadOnlySpan<ushort> starts, Span<byte> destination)
    {
        // Symbols are coded last to first and the bytes written from the end backwards, so that the decoder reads
        // both forwards; then the stream is moved to the front.
        var x = Lower;
        var p = destination.Length;
        for (var k = symbols.Length - 1; k >= 0; k--)
        {
            var index = (map[Condition(symbols, exponents, previousMask, k)] << 8) | symbols[k];
            uint f = frequencies[index];
            var limit = ((Lower >> ScaleBits) << 8) * f;
            while (x >= limit)
            {
                if (p <= 4)
                {
                    return -1;
                }

                destination[--p] = (byte)x;
                x >>= 8;
            }

            x = ((x / f) << ScaleBits) + (x % f) + starts[index];
        }

        if (p < 4)
        {
            return -1;
        }

        p -= 4;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[p..], x);
        var length = destination.Length - p;
        destination[p..].CopyTo(destination);
        return length;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeStream(ReadOnlySpan<byte> stream, ReadOnlySpan<byte> exponents, byte previousMask, ReadOnlySpan<byte> map,
        uint[] slots, Span<byte> symbols)
    {
        if (stream.Length < 4)
        {
            throw new InvalidDataException("context rANS stream is shorter than its state");
        }

        var x = BinaryPrimitives.ReadUInt32LittleEndian(stream);
        if (x < Lower || x >= Lower << 8)
        {
            throw new InvalidDataException("context rANS stream starts with an impossible state");
        }

        Span<int> bases = stackalloc int[256];
        for (var c = 0; c < 256; c++)
        {
            bases[c] = map[c] * Total;
        }

        // One table load per symbol; the loop reads exponents and writes symbols without bounds checks (the caller
        // checked the exponents cover the symbols), and checks the stream's bounds before each byte it reads.
        ref var slot0 = ref MemoryMarshal.GetArrayDataReference(slots);
        ref var base0 = ref MemoryMarshal.GetReference(bases);
        ref var exponent0 = ref MemoryMarshal.GetReference(exponents);
        ref var symbol0 = ref MemoryMarshal.GetReference(symbols);
        var p = 4;
        var previous = 0;
        var hasExponents = !exponents.IsEmpty;
        for (var k = 0; k < symbols.Length; k++)
        {
            var condition = (previous & previousMask) ^ (hasExponents ? Unsafe.Add(ref exponent0, k) : 0);
            var entry = Unsafe.Add(ref slot0, Unsafe.Add(ref base0, condition) + (int)(x & (Total - 1)));
            x = ((((entry >> 8) & 0xFFF) + 1) * (x >> ScaleBits)) + (entry >> 20);
            while (x < Lower)
            {
                if (p >= stream.Length)
                {
                    throw new InvalidDataException("context rANS stream ends before its last symbol");
                }

                x = (x << 8) | stream[p++];
            }

            previous = (byte)entry;
            Unsafe.Add(ref symbol0, k) = (byte)entry;
        }

        if (x != Lower || p != stream.Length)
        {
            throw new InvalidDataException("context rANS stream does not end where its last symbol does");
        }
    }

    /// <summary>
    /// The conditioning byte of symbol k: the bits <paramref name="previousMask"/> keeps of symbol k − 1 (none for the
    /// first), XOR the exponent of value k when <paramref name="exponents"/> is given.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Condition(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> exponents, byte previousMask, int k) =>
        ((k > 0 ? symbols[k - 1] : 0) & previousMask) ^ (exponents.IsEmpty ? 0 : exponents[k]);

    // Whether coding a row with its own table (its entropy plus the table's bytes) beats the overall distribution.
    private static bool OwnTablePays(ReadOnlySpan<int> row, int n, ReadOnlySpan<double> overallBits)
    {
        double saved = 0;
        var tableBits = 32 * 8;
        for (var s = 0; s < 256; s++)
        {
            if (row[s] > 0)
            {
                saved += row[s] * (overallBits[s] + Math.Log2((double)row[s] / n));
                tableBits += row[s] * 4096L / n < 255 ? 8 : 24;
            }
        }

        return saved > tableBits;
    }

    private static bool IsEmpty(ReadOnlySpan<int> histogram)
    {
        foreach (var n in histogram)
        {
            if (n > 0)
            {
                return false;
            }
        }

        return true;
    }

    // Scales counts to frequencies summing to Total, every present symbol at least 1; an empty histogram gets one
    // symbol (0) of the whole total, so every context has a valid table.
    private static void Normalize(ReadOnlySpan<int> counts, Span<ushort> frequencies)
    {
        long n = 0;
        foreach (var c in counts)
        {
            n += c;
        }

        if (n == 0)
        {
            frequencies[0] = Total;
            return;
        }

        var sum = 0;
        for (var s = 0; s < 256; s++)
        {
            if (counts[s] > 0)
            {
                frequencies[s] = (ushort)Math.Max(1, (int)Math.Round((double)counts[s] * Total / n));
                sum += frequencies[s];
            }
        }

        // Take the rounding difference from (or give it to) the most frequent symbols, which feel it least.
        while (sum != Total)
        {
            var largest = 0;
            for (var s = 1; s < 256; s++)
            {
                if (frequencies[s] > frequencies[largest])
                {
                    largest = s;
                }
            }

            var step = sum > Total ? -Math.Min(sum - Total, frequencies[largest] - 1) : Total - sum;
            if (step == 0)
            {
                throw new InvalidOperationException("cannot normalize a table with more symbols than its total");
            }

            frequencies[largest] = (ushort)(frequencies[largest] + step);
            sum += step;
        }
    }
}
