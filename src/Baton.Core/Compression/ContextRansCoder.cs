using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
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
        using var trial = Trial.Prepare(symbols, exponents, previousMask);
        if (!trial.MayBeat(mustBeat, destination.Length))
        {
            return -1;
        }

        var position = trial.WriteTables(destination);
        var stream = destination[position..];
        var k = symbols.Length - 1;
        var x = Lower;
        var p = stream.Length;
        return EncodeRange(trial, symbols, exponents, stream, ref k, ref x, ref p) ? Trial.Accept(position, Finish(stream, x, p), mustBeat) : -1;
    }

    /// <summary>
    /// Codes the streams of two prepared trials over the same number of symbols in one loop (two independent rANS
    /// chains, which the CPU overlaps), each after the tables already written at the front of its destination:
    /// the same bytes as <see cref="Encode"/> gives each. Returns each one's whole length, or -1 where it did not fit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (int First, int Second) EncodePair(Trial first, ReadOnlySpan<byte> firstSymbols, ReadOnlySpan<byte> firstExponents, Span<byte> firstDestination, int firstTables,
        Trial second, ReadOnlySpan<byte> secondSymbols, ReadOnlySpan<byte> secondExponents, Span<byte> secondDestination, int secondTables)
    {
        if (firstSymbols.Length != secondSymbols.Length)
        {
            throw new ArgumentException("the planes of a pair hold one symbol per value each", nameof(secondSymbols));
        }

        // The loops read the exponents without bounds checks.
        if ((!firstExponents.IsEmpty && firstExponents.Length < firstSymbols.Length) || (!secondExponents.IsEmpty && secondExponents.Length < secondSymbols.Length))
        {
            throw new ArgumentException("fewer exponents than symbols");
        }

        var streamA = firstDestination[firstTables..];
        var streamB = secondDestination[secondTables..];
        uint xa = Lower, xb = Lower;
        int pa = streamA.Length, pb = streamB.Length;
        var k = firstSymbols.Length - 1;
        var maskA = first.PreviousMask;
        var maskB = second.PreviousMask;
        ref var symbolA = ref MemoryMarshal.GetReference(firstSymbols);
        ref var symbolB = ref MemoryMarshal.GetReference(secondSymbols);
        ref var exponentA = ref MemoryMarshal.GetReference(firstExponents);
        ref var exponentB = ref MemoryMarshal.GetReference(secondExponents);
        var hasA = !firstExponents.IsEmpty;
        var hasB = !secondExponents.IsEmpty;
        ref var mapA = ref MemoryMarshal.GetArrayDataReference(first.Map);
        ref var mapB = ref MemoryMarshal.GetArrayDataReference(second.Map);
        ref var codingA = ref MemoryMarshal.GetArrayDataReference(first.Coding);
        ref var codingB = ref MemoryMarshal.GetArrayDataReference(second.Coding);
        ref var outA = ref MemoryMarshal.GetReference(streamA);
        ref var outB = ref MemoryMarshal.GetReference(streamB);
        for (; k >= 0 && pa >= 7 && pb >= 7; k--)
        {
            var previousA = k > 0 ? Unsafe.Add(ref symbolA, k - 1) : 0;
            var previousB = k > 0 ? Unsafe.Add(ref symbolB, k - 1) : 0;
            var conditionA = (previousA & maskA) ^ (hasA ? Unsafe.Add(ref exponentA, k) : 0);
            var conditionB = (previousB & maskB) ^ (hasB ? Unsafe.Add(ref exponentB, k) : 0);
            ref readonly var codeA = ref Unsafe.Add(ref codingA, (Unsafe.Add(ref mapA, conditionA) << 8) | Unsafe.Add(ref symbolA, k));
            ref readonly var codeB = ref Unsafe.Add(ref codingB, (Unsafe.Add(ref mapB, conditionB) << 8) | Unsafe.Add(ref symbolB, k));
            var bytesA = codeA.RenormalizationBytes(xa);
            var bytesB = codeB.RenormalizationBytes(xb);
            WriteRenormalization(ref outA, pa, xa);
            WriteRenormalization(ref outB, pb, xb);
            xa = codeA.Code(xa, bytesA);
            xb = codeB.Code(xb, bytesB);
            pa -= bytesA;
            pb -= bytesB;
        }

        // The rest one stream at a time (copies, so that the loop's state stays in registers).
        var (ka, kb, xa2, xb2, pa2, pb2) = (k, k, xa, xb, pa, pb);
        var a = EncodeRange(first, firstSymbols, firstExponents, streamA, ref ka, ref xa2, ref pa2) ? Finish(streamA, xa2, pa2) : -1;
        var b = EncodeRange(second, secondSymbols, secondExponents, streamB, ref kb, ref xb2, ref pb2) ? Finish(streamB, xb2, pb2) : -1;
        return (a < 0 ? -1 : firstTables + a, b < 0 ? -1 : secondTables + b);
    }

    /// <summary>Decodes exactly <paramref name="symbols"/>.Length symbols from a whole payload.</summary>
    /// <exception cref="InvalidDataException">The tables or the stream are malformed.</exception>
    public static void Decode(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> exponents, byte previousMask, Span<byte> symbols)
    {
        if (!exponents.IsEmpty && exponents.Length < symbols.Length)
        {
            throw new ArgumentException("fewer exponents than symbols", nameof(exponents));
        }

        var contexts = ReadHeader(payload);
        var slots = ArrayPool<uint>.Shared.Rent(contexts * Total);
        try
        {
            var stream = payload[ReadTables(payload, contexts, slots)..];
            var x = StartState(stream);
            var p = 4;
            var previous = 0;
            Span<int> bases = stackalloc int[256];
            Bases(payload.Slice(2, 256), bases);
            DecodeRange(stream, exponents, previousMask, bases, slots, symbols, 0, ref x, ref p, ref previous);
            CheckEnd(stream, x, p);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(slots);
        }
    }

    /// <summary>
    /// Decodes two planes of one run of values at once: <paramref name="first"/> coded without exponents, then
    /// <paramref name="second"/> coded under it (the exponent plane and the sign plane). The same symbols as two calls
    /// of <see cref="Decode"/>, but the two rANS chains are independent, so the CPU works on both at a time.
    /// </summary>
    /// <exception cref="InvalidDataException">The tables or a stream are malformed.</exception>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodePair(ReadOnlySpan<byte> firstPayload, byte firstMask, Span<byte> first, ReadOnlySpan<byte> secondPayload, byte secondMask, Span<byte> second)
    {
        if (first.Length != second.Length)
        {
            throw new ArgumentException("the planes of a pair hold one symbol per value each", nameof(second));
        }

        var firstContexts = ReadHeader(firstPayload);
        var secondContexts = ReadHeader(secondPayload);
        var firstSlots = ArrayPool<uint>.Shared.Rent(firstContexts * Total);
        var secondSlots = ArrayPool<uint>.Shared.Rent(secondContexts * Total);
        try
        {
            var firstStream = firstPayload[ReadTables(firstPayload, firstContexts, firstSlots)..];
            var secondStream = secondPayload[ReadTables(secondPayload, secondContexts, secondSlots)..];
            uint xa = StartState(firstStream), xb = StartState(secondStream);
            Span<int> firstBases = stackalloc int[256];
            Span<int> secondBases = stackalloc int[256];
            Bases(firstPayload.Slice(2, 256), firstBases);
            Bases(secondPayload.Slice(2, 256), secondBases);

            // Both chains in one loop while each stream has the two bytes a step may read; the rest one by one.
            // The first plane's mask folded into its bases: its condition is then the previous symbol itself.
            Span<int> previousBases = stackalloc int[256];
            for (var c = 0; c < 256; c++)
            {
                previousBases[c] = firstBases[c & firstMask];
            }

            ref var slotA = ref MemoryMarshal.GetArrayDataReference(firstSlots);
            ref var slotB = ref MemoryMarshal.GetArrayDataReference(secondSlots);
            ref var baseA = ref MemoryMarshal.GetReference(previousBases);
            ref var baseB = ref MemoryMarshal.GetReference(secondBases);
            ref var inA = ref MemoryMarshal.GetReference(firstStream);
            ref var inB = ref MemoryMarshal.GetReference(secondStream);
            ref var outA = ref MemoryMarshal.GetReference(first);
            ref var outB = ref MemoryMarshal.GetReference(second);
            int pa = 4, pb = 4;
            uint entryA = 0, entryB = 0;
            var k = 0;
            while (true)
            {
                // A step reads at most 2 bytes of each stream: this many steps stay inside both without checks.
                var end = Math.Min(first.Length, k + Math.Min((firstStream.Length - 2 - pa) >> 1, (secondStream.Length - 2 - pb) >> 1) + 1);
                if (end <= k || pa > firstStream.Length - 2 || pb > secondStream.Length - 2)
                {
                    break;
                }

                for (; k < end; k++)
                {
                    entryA = Unsafe.Add(ref slotA, Unsafe.Add(ref baseA, (byte)entryA) + (int)(xa & (Total - 1)));
                    entryB = Unsafe.Add(ref slotB, Unsafe.Add(ref baseB, ((int)entryB & secondMask) ^ (byte)entryA) + (int)(xb & (Total - 1)));
                    xa = Step(xa, entryA);
                    xb = Step(xb, entryB);
                    var bytesA = RenormalizationBytes(xa);
                    var bytesB = RenormalizationBytes(xb);
                    xa = Renormalized(xa, bytesA, ref inA, pa);
                    xb = Renormalized(xb, bytesB, ref inB, pb);
                    pa += bytesA;
                    pb += bytesB;
                    Unsafe.Add(ref outA, k) = (byte)entryA;
                    Unsafe.Add(ref outB, k) = (byte)entryB;
                }
            }

            int previousA = (byte)entryA, previousB = (byte)entryB;
            // The rest one stream at a time (copies, so that the loop's state stays in registers).
            var (x1, p1, previous1) = (xa, pa, previousA);
            DecodeRange(firstStream, default, firstMask, firstBases, firstSlots, first, k, ref x1, ref p1, ref previous1);
            CheckEnd(firstStream, x1, p1);
            var (x2, p2, previous2) = (xb, pb, previousB);
            DecodeRange(secondStream, first, secondMask, secondBases, secondSlots, second, k, ref x2, ref p2, ref previous2);
            CheckEnd(secondStream, x2, p2);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(firstSlots);
            ArrayPool<uint>.Shared.Return(secondSlots);
        }
    }

    // Checks K and the map; returns K.
    private static int ReadHeader(ReadOnlySpan<byte> payload)
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

        foreach (var context in payload.Slice(2, 256))
        {
            if (context >= contexts)
            {
                throw new InvalidDataException("context rANS map names a context that has no table");
            }
        }

        return contexts;
    }

    // Reads the tables into one entry per context and slot: symbol | (slot − start) << 8 | (frequency − 1) << 20.
    // Returns where the stream starts.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ReadTables(ReadOnlySpan<byte> payload, int contexts, uint[] slots)
    {
        var position = 2 + 256;
        for (var context = 0; context < contexts; context++)
        {
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
                var entry = (uint)symbol | ((uint)(frequency - 1) << 20);
                for (var j = 0; j < run.Length; j++)
                {
                    run[j] = entry | ((uint)j << 8);
                }

                cumulative += frequency;
            }

            if (cumulative != Total)
            {
                throw new InvalidDataException("context rANS table does not sum to its total");
            }
        }

        return position;
    }

    private static uint StartState(ReadOnlySpan<byte> stream)
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

        return x;
    }

    private static void Bases(ReadOnlySpan<byte> map, Span<int> bases)
    {
        for (var c = 0; c < 256; c++)
        {
            bases[c] = map[c] * Total;
        }
    }

    private static void CheckEnd(ReadOnlySpan<byte> stream, uint x, int p)
    {
        if (x != Lower || p != stream.Length)
        {
            throw new InvalidDataException("context rANS stream does not end where its last symbol does");
        }
    }

    // One decoding step: x' = f · (x / Total) + (x mod Total) − start, from the slot's entry, grouped so that only
    // one multiply and one add wait for the entry's frequency.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(uint x, uint entry) => ((entry >> 20) * (x >> ScaleBits)) + ((x >> ScaleBits) + ((entry >> 8) & 0xFFF));

    // A state that a step left in [2^11, 2^31) needs 0, 1 or 2 bytes to be back in [2^23, 2^31): one below 2^23, two
    // below 2^15 (the borrows of two subtractions, no branch).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RenormalizationBytes(uint x) => (int)(((x - Lower) >> 31) + ((x - (Lower >> 8)) >> 31));

    // x shifted left by that many bytes and filled from the stream at p, read from the two bytes there (which the
    // caller made sure are there).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Renormalized(uint x, int bytes, ref byte stream, int p)
    {
        var next = ((uint)Unsafe.Add(ref stream, p) << 8) | Unsafe.Add(ref stream, p + 1);
        return (x << (bytes * 8)) | (next >> (16 - (bytes * 8)));
    }

    // Decodes symbols[from..] from state (x, p, previous); the caller checks the end. While two stream bytes are left
    // the loop reads the exponents, tables and stream without bounds checks (the caller checked the exponents cover
    // the symbols; indexes are bytes and slots); then it checks the stream's bounds before each byte it reads.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeRange(ReadOnlySpan<byte> stream, ReadOnlySpan<byte> exponents, byte previousMask, ReadOnlySpan<int> bases,
        uint[] slots, Span<byte> symbols, int from, ref uint state, ref int position, ref int previousSymbol)
    {
        ref var slot0 = ref MemoryMarshal.GetArrayDataReference(slots);
        ref var base0 = ref MemoryMarshal.GetReference(bases);
        ref var exponent0 = ref MemoryMarshal.GetReference(exponents);
        ref var symbol0 = ref MemoryMarshal.GetReference(symbols);
        ref var stream0 = ref MemoryMarshal.GetReference(stream);
        var hasExponents = !exponents.IsEmpty;
        var x = state;
        var p = position;
        var previous = previousSymbol;
        var last = stream.Length - 2;
        var k = from;
        for (; k < symbols.Length && p <= last; k++)
        {
            var condition = (previous & previousMask) ^ (hasExponents ? Unsafe.Add(ref exponent0, k) : 0);
            var entry = Unsafe.Add(ref slot0, Unsafe.Add(ref base0, condition) + (int)(x & (Total - 1)));
            x = Step(x, entry);
            var bytes = RenormalizationBytes(x);
            x = Renormalized(x, bytes, ref stream0, p);
            p += bytes;
            previous = (byte)entry;
            Unsafe.Add(ref symbol0, k) = (byte)entry;
        }

        for (; k < symbols.Length; k++)
        {
            var condition = (previous & previousMask) ^ (hasExponents ? exponents[k] : 0);
            var entry = slots[bases[condition] + (int)(x & (Total - 1))];
            x = Step(x, entry);
            while (x < Lower)
            {
                if (p >= stream.Length)
                {
                    throw new InvalidDataException("context rANS stream ends before its last symbol");
                }

                x = (x << 8) | stream[p++];
            }

            previous = (byte)entry;
            symbols[k] = (byte)entry;
        }

        (state, position, previousSymbol) = (x, p, previous);
    }

    // Counts (condition, symbol) pairs; the branch on the exponents is taken once, not per symbol.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CountJoint(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> exponents, byte previousMask, Span<int> counts)
    {
        ref var symbol0 = ref MemoryMarshal.GetReference(symbols);
        ref var count0 = ref MemoryMarshal.GetReference(counts);
        var previous = 0;
        if (exponents.IsEmpty)
        {
            for (var k = 0; k < symbols.Length; k++)
            {
                int symbol = Unsafe.Add(ref symbol0, k);
                Unsafe.Add(ref count0, ((previous & previousMask) << 8) | symbol)++;
                previous = symbol;
            }

            return;
        }

        ref var exponent0 = ref MemoryMarshal.GetReference(exponents);
        for (var k = 0; k < symbols.Length; k++)
        {
            int symbol = Unsafe.Add(ref symbol0, k);
            Unsafe.Add(ref count0, (((previous & previousMask) ^ Unsafe.Add(ref exponent0, k)) << 8) | symbol)++;
            previous = symbol;
        }
    }

    private static int Sum(ReadOnlySpan<int> row)
    {
        var sum = Vector<int>.Zero;
        var s = 0;
        for (; s + Vector<int>.Count <= row.Length; s += Vector<int>.Count)
        {
            sum += new Vector<int>(row[s..]);
        }

        var total = Vector.Sum(sum);
        for (; s < row.Length; s++)
        {
            total += row[s];
        }

        return total;
    }

    private static void Accumulate(ReadOnlySpan<int> row, Span<int> into)
    {
        var s = 0;
        for (; s + Vector<int>.Count <= row.Length; s += Vector<int>.Count)
        {
            (new Vector<int>(into[s..]) + new Vector<int>(row[s..])).CopyTo(into[s..]);
        }

        for (; s < row.Length; s++)
        {
            into[s] += row[s];
        }
    }

    // Codes symbols k, k − 1, ..., 0 from state (x, p) of a stream written backwards from the end of
    // destination. Returns false when it does not fit. Symbols are coded last to first and the bytes written from
    // the end backwards, so that the decoder reads both forwards (Finish moves the stream to the front). The loop
    // reads the symbols, exponents and tables without bounds checks (indexes are bytes, the tables 256 entries per
    // context, and Trial.Prepare checked the exponents cover the symbols) and checks the destination before each
    // byte it writes.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool EncodeRange(Trial trial, ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> exponents, Span<byte> destination, ref int from, ref uint state, ref int position)
    {
        ref var symbol0 = ref MemoryMarshal.GetReference(symbols);
        ref var exponent0 = ref MemoryMarshal.GetReference(exponents);
        ref var map0 = ref MemoryMarshal.GetArrayDataReference(trial.Map);
        ref var coding0 = ref MemoryMarshal.GetArrayDataReference(trial.Coding);
        ref var output0 = ref MemoryMarshal.GetReference(destination);
        var previousMask = trial.PreviousMask;
        var hasExponents = !exponents.IsEmpty;
        var x = state;
        var p = position;
        var k = from;
        for (; k >= 0 && p >= 7; k--)
        {
            var condition = ((k > 0 ? Unsafe.Add(ref symbol0, k - 1) : 0) & previousMask) ^ (hasExponents ? Unsafe.Add(ref exponent0, k) : 0);
            ref readonly var code = ref Unsafe.Add(ref coding0, (Unsafe.Add(ref map0, condition) << 8) | Unsafe.Add(ref symbol0, k));
            var bytes = code.RenormalizationBytes(x);
            WriteRenormalization(ref output0, p, x);
            x = code.Code(x, bytes);
            p -= bytes;
        }

        for (; k >= 0; k--)
        {
            var condition = ((k > 0 ? Unsafe.Add(ref symbol0, k - 1) : 0) & previousMask) ^ (hasExponents ? Unsafe.Add(ref exponent0, k) : 0);
            ref readonly var code = ref Unsafe.Add(ref coding0, (Unsafe.Add(ref map0, condition) << 8) | Unsafe.Add(ref symbol0, k));
            while (x >= code.Limit)
            {
                if (p <= 4)
                {
                    (from, state, position) = (k, x, p);
                    return false;
                }

                destination[--p] = (byte)x;
                x >>= 8;
            }

            x += code.Bias + (code.Divide(x) * code.Complement);
        }

        (from, state, position) = (k, x, p);
        return true;
    }

    // Writes both bytes a renormalization may take in front of output[p] (p at least 7), high byte first as two single
    // writes would leave them; the coder then moves p by the count it took, so no branch decides what is written.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRenormalization(ref byte output, int p, uint x) =>
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref output, p - 2), BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)x) : (ushort)x);

    // Writes the final state in front of the stream and moves it to the front; returns its length or -1.
    private static int Finish(Span<byte> destination, uint x, int p)
    {
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

    // log2 of every frequency a table can hold, as Math.Log2 gives it.
    private static readonly double[] s_log2 = BuildLog2();

    private static double[] BuildLog2()
    {
        var table = new double[Total + 1];
        for (var f = 0; f <= Total; f++)
        {
            table[f] = Math.Log2(f);
        }

        return table;
    }

    /// <summary>
    /// One plane's context model, ready to code: its contexts, tables and estimated size (<see cref="Prepare"/>),
    /// then its header and tables (<see cref="WriteTables"/>) and its stream (<see cref="Encode"/> or
    /// <see cref="EncodePair"/>). Holds pooled arrays until disposed.
    /// </summary>
    internal sealed class Trial : IDisposable
    {
        private readonly ushort[] _frequencies;

        private Trial(byte previousMask, byte[] map, int contexts, ushort[] frequencies, SymbolCoding[] coding, long estimate)
        {
            PreviousMask = previousMask;
            Map = map;
            Contexts = contexts;
            _frequencies = frequencies;
            Coding = coding;
            Estimate = estimate;
        }

        /// <summary>The bits of the symbol before that the condition keeps.</summary>
        public byte PreviousMask { get; }

        /// <summary>The context of each conditioning value.</summary>
        public byte[] Map { get; }

        /// <summary>Number of tables.</summary>
        public int Contexts { get; }

        /// <summary>Per context, 256 symbols' coding.</summary>
        public SymbolCoding[] Coding { get; }

        /// <summary>Estimated payload size in bytes: header, tables and coded bits.</summary>
        public long Estimate { get; }

        /// <summary>Counts the symbols under their conditions and chooses contexts and tables.</summary>
        [SkipLocalsInit]
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static Trial Prepare(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> exponents, byte previousMask)
        {
            if (!exponents.IsEmpty && exponents.Length < symbols.Length)
            {
                throw new ArgumentException("fewer exponents than symbols", nameof(exponents));
            }

            var count = symbols.Length;
            var joint = ArrayPool<int>.Shared.Rent(256 * 256);
            var freq = ArrayPool<ushort>.Shared.Rent(256 * 256);
            var map = new byte[256];
            var kept = false;
            try
            {
                var counts = joint.AsSpan(0, 256 * 256);
                counts.Clear();
                CountJoint(symbols, exponents, previousMask, counts);

                // Rows (conditioning values) that never occur add nothing to any sum below, so every loop skips them.
                Span<int> rowTotals = stackalloc int[256];
                Span<int> overall = stackalloc int[256];
                overall.Clear();
                for (var c = 0; c < 256; c++)
                {
                    var row = counts.Slice(c << 8, 256);
                    rowTotals[c] = Sum(row);
                    if (rowTotals[c] > 0)
                    {
                        Accumulate(row, overall);
                    }
                }

                // Context 0 is the catch-all; a conditioning value gets its own table, in value order, when the bits it
                // saves against the plane's overall distribution pay for the table.
                Span<int> merged = stackalloc int[256];
                merged.Clear();
                Span<double> overallBits = stackalloc double[256];
                for (var s = 0; s < 256; s++)
                {
                    overallBits[s] = overall[s] == 0 ? 0 : -Math.Log2((double)overall[s] / count);
                }

                var contexts = 1;
                Span<int> ownOwners = stackalloc int[256];
                ownOwners[0] = 0;
                for (var c = 0; c < 256; c++)
                {
                    var row = counts.Slice(c << 8, 256);
                    var n = rowTotals[c];
                    if (n >= OwnContextMinimum && contexts < 256 && OwnTablePays(row, n, overallBits))
                    {
                        map[c] = (byte)contexts;
                        ownOwners[contexts++] = c;
                    }
                    else
                    {
                        map[c] = 0;
                        if (n > 0)
                        {
                            Accumulate(row, merged);
                        }
                    }
                }

                // Without rare values, the catch-all holds nothing: give it the first own context's table.
                var frequencies = freq.AsSpan(0, contexts << 8);
                frequencies.Clear();
                var catchAllEmpty = IsEmpty(merged);
                Normalize(catchAllEmpty ? counts.Slice(ownOwners[1 % contexts] << 8, 256) : merged, frequencies[..256]);
                for (var context = 1; context < contexts; context++)
                {
                    Normalize(counts.Slice(ownOwners[context] << 8, 256), frequencies.Slice(context << 8, 256));
                }

                // Estimated size: header, tables, coded bits (summed in the order the format's first encoder summed them,
                // so that the same plans pass the same test).
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

                var log2 = s_log2.AsSpan();
                for (var c = 0; c < 256; c++)
                {
                    if (rowTotals[c] == 0)
                    {
                        continue;
                    }

                    var table = frequencies.Slice(map[c] << 8, 256);
                    var row = counts.Slice(c << 8, 256);
                    for (var s = 0; s < 256; s++)
                    {
                        if (row[s] > 0)
                        {
                            bits += row[s] * (ScaleBits - log2[table[s]]);
                        }
                    }
                }

                var coding = ArrayPool<SymbolCoding>.Shared.Rent(contexts << 8);
                for (var context = 0; context < contexts; context++)
                {
                    var table = frequencies.Slice(context << 8, 256);
                    var cumulative = 0;
                    for (var s = 0; s < 256; s++)
                    {
                        if (table[s] != 0)
                        {
                            coding[(context << 8) + s] = SymbolCoding.Create(table[s], cumulative);
                            cumulative += table[s];
                        }
                    }
                }

                kept = true;
                return new Trial(previousMask, map, contexts, freq, coding, tableBytes + (long)Math.Ceiling(bits / 8));
            }
            finally
            {
                ArrayPool<int>.Shared.Return(joint);
                if (!kept)
                {
                    ArrayPool<ushort>.Shared.Return(freq);
                }
            }
        }

        /// <summary>Whether the estimate leaves a chance to beat <paramref name="mustBeat"/> bytes in a destination of this length.</summary>
        public bool MayBeat(long mustBeat, int destinationLength) => Estimate + 16 < mustBeat && Estimate + 16 < destinationLength;

        /// <summary>Writes K, the map and the tables; returns their length (where the stream starts).</summary>
        public int WriteTables(Span<byte> destination)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)Contexts);
            Map.CopyTo(destination[2..]);
            var position = 2 + 256;
            for (var context = 0; context < Contexts; context++)
            {
                var table = _frequencies.AsSpan(context << 8, 256);
                var bitmap = destination.Slice(position, 32);
                bitmap.Clear();
                position += 32;
                for (var s = 0; s < 256; s++)
                {
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
                }
            }

            return position;
        }

        /// <summary>The whole payload's length when its stream fits and the whole beats <paramref name="mustBeat"/>; else -1.</summary>
        public static int Accept(int tables, int streamLength, long mustBeat) => streamLength < 0 || tables + streamLength >= mustBeat ? -1 : tables + streamLength;

        /// <inheritdoc/>
        public void Dispose()
        {
            ArrayPool<ushort>.Shared.Return(_frequencies);
            ArrayPool<SymbolCoding>.Shared.Return(Coding);
        }
    }

    /// <summary>What the encoder needs of one symbol of one table.</summary>
    internal readonly struct SymbolCoding
    {
        /// <summary>The state is renormalized (a byte written) while it is at least this.</summary>
        public readonly uint Limit;

        /// <summary>Two bytes are written when the state is at least this (Limit · 256, or above any state).</summary>
        public readonly uint SecondLimit;

        /// <summary>The symbol's start in its table.</summary>
        public readonly uint Bias;

        /// <summary><see cref="Total"/> minus the symbol's frequency.</summary>
        public readonly uint Complement;

        /// <summary>x / frequency = (x · Reciprocal) &gt;&gt; Shift for x below 2^31.</summary>
        public readonly int Shift;

        public readonly ulong Reciprocal;

        private SymbolCoding(uint limit, uint bias, uint complement, int shift, ulong reciprocal)
        {
            Limit = limit;
            SecondLimit = (uint)Math.Min((ulong)limit << 8, uint.MaxValue);
            Bias = bias;
            Complement = complement;
            Shift = shift;
            Reciprocal = reciprocal;
        }

        // Division by an invariant integer (Granlund and Montgomery 1994, theorem 4.2): with l = ceil(log2 f) and
        // m = ceil(2^(31 + l) / f), floor(x / f) = floor(x · m / 2^(31 + l)) for every x below 2^31; m < 2^32 + 1, so
        // x · m fits 64 bits.
        public static SymbolCoding Create(int frequency, int start)
        {
            var log = frequency == 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)(frequency - 1));
            var shift = 31 + log;
            var reciprocal = ((1UL << shift) + (ulong)frequency - 1) / (ulong)frequency;
            return new SymbolCoding(((Lower >> ScaleBits) << 8) * (uint)frequency, (uint)start, (uint)(Total - frequency), shift, reciprocal);
        }

        /// <summary>How many bytes (0, 1 or 2) renormalization takes from state x before coding the symbol (no branch).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int RenormalizationBytes(uint x) => 2 - (int)((((ulong)x - Limit) >> 63) + (((ulong)x - SecondLimit) >> 63));

        /// <summary>
        /// Codes the symbol into state x after renormalizing by that many bytes:
        /// x' = (x / f) · Total + x mod f + start = x + start + (x / f) · (Total − f).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Code(uint x, int bytes)
        {
            x >>= bytes * 8;
            return x + Bias + (Divide(x) * Complement);
        }

        /// <summary>floor(x / frequency) for x below 2^31, as the encoder computes it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Divide(uint x) => (uint)((x * Reciprocal) >> Shift);
    }
}
