using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Baton.Compression;

/// <summary>
/// Codec 4: a chunk cut into segments, each either raw bytes or a run of float32 or 16-bit floats with its own
/// alignment, split into planes as <see cref="PlaneSplitter"/> does and coded plane by plane, the exponents with a
/// context model (<see cref="ContextRansCoder"/>: each exponent under the one before it, the sign and mantissa
/// planes under their own exponent, the sign plane also under the sign before it). Files that store tensors one after another at arbitrary offsets (ONNX protobufs, pickles with
/// headers between storages) change alignment inside a chunk; codec 2 and 3 had one alignment per chunk.
/// </summary>
/// <remarks>
/// Layout: <c>version (u8 = 1) | XXH3-64 of the raw bytes (u64 LE) | segments</c>; segment = <c>kind (u8: 0 raw, 2 or
/// 4 = float width) | raw length (u32 LE) | body</c>; a raw body is the bytes; a float body is one plane after
/// another, plane 0 first, each <c>mode (u8) | payload length (u32 LE) | payload</c> with the modes of codec 2 plus
/// 4 (context rANS). docs/FORMAT.md ("Codec 4") is normative.
/// </remarks>
internal static class FloatSegmentCodec
{
    /// <summary>Bytes before the first segment.</summary>
    public const int HeaderSize = 9;

    /// <summary>The plane mode of a context rANS payload.</summary>
    public const byte ContextRansMode = 4;

    private const byte Version = 1;
    private const int EntryHeader = 5;

    // Alignment is decided per block of this many bytes; neighbouring blocks that agree form one segment.
    private const int BlockSize = 4096;

    // Above this estimated ratio a block is not worth coding as floats.
    private const double FloatWorth = 0.97;

    private const double NoiseEntropy = 7.8;

    // Summing a block's 256 terms n·log2(n) in another order changes the sum by at most 256 · 2^-53 of it, so an
    // entropy (sum over total, at most 11 bits) by less than 1e-12 bits: far below this margin.
    private const double RatioMargin = 1e-9;

    // n·log2(n) for every count a block histogram can hold (a 16-bit layout counts two words per 4 bytes).
    private static readonly double[] s_nLog2N = BuildNLog2N((BlockSize / 2) + 1);

    /// <summary>Encodes <paramref name="raw"/>; returns the encoded length, or -1 when it would not be smaller or not fit.</summary>
    public static int Encode(ReadOnlySpan<byte> raw, Span<byte> destination, int zstdLevel)
    {
        if (destination.Length < HeaderSize)
        {
            return -1;
        }

        destination[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[1..], XxHash3.HashToUInt64(raw));
        var position = HeaderSize;
        foreach (var segment in Plan(raw))
        {
            if (position + EntryHeader > destination.Length)
            {
                return -1;
            }

            var bytes = raw.Slice(segment.Start, segment.Length);
            var body = destination[(position + EntryHeader)..];
            var length = segment.Width == 0 ? -1 : EncodeFloats(bytes, segment.Width, body, zstdLevel);
            var kind = segment.Width;
            if (length < 0)
            {
                if (bytes.Length > body.Length)
                {
                    return -1;
                }

                bytes.CopyTo(body);
                (kind, length) = (0, bytes.Length);
            }

            destination[position] = (byte)kind;
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(position + 1)..], (uint)bytes.Length);
            position += EntryHeader + length;
            if (position >= raw.Length)
            {
                return -1;
            }
        }

        return position < raw.Length ? position : -1;
    }

    /// <summary>Decodes a blob written by <see cref="Encode"/> into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidDataException">The encoded bytes are malformed or do not decode to what was encoded.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, Span<byte> destination)
    {
        if (encoded.Length < HeaderSize || encoded[0] != Version)
        {
            throw new InvalidDataException(encoded.Length < HeaderSize ? "float segment blob is shorter than its header" : $"float segment blob has unknown version {encoded[0]}");
        }

        var position = HeaderSize;
        var filled = 0;
        while (position < encoded.Length)
        {
            if (encoded.Length - position < EntryHeader)
            {
                throw new InvalidDataException("float segment header is truncated");
            }

            var kind = encoded[position];
            var length = BinaryPrimitives.ReadUInt32LittleEndian(encoded[(position + 1)..]);
            position += EntryHeader;
            if (length == 0 || length > (uint)(destination.Length - filled))
            {
                throw new InvalidDataException("float segment runs past the chunk's raw length");
            }

            var target = destination.Slice(filled, (int)length);
            switch (kind)
            {
                case 0:
                    if (length > (uint)(encoded.Length - position))
                    {
                        throw new InvalidDataException("raw segment runs past the blob");
                    }

                    encoded.Slice(position, (int)length).CopyTo(target);
                    position += (int)length;
                    break;
                case 2 or 4:
                    if (length % kind != 0)
                    {
                        throw new InvalidDataException($"float segment of {length} bytes does not hold whole {kind}-byte values");
                    }

                    position += DecodeFloats(encoded[position..], kind, target);
                    break;
                default:
                    throw new InvalidDataException($"float segment has unknown kind {kind}");
            }

            filled += (int)length;
        }

        if (filled != destination.Length)
        {
            throw new InvalidDataException("float segments end before the chunk's raw length");
        }

        if (XxHash3.HashToUInt64(destination) != BinaryPrimitives.ReadUInt64LittleEndian(encoded[1..]))
        {
            throw new InvalidDataException("float segment blob does not decode to the bytes it was made from (checksum mismatch)");
        }
    }

    /// <summary>Where the segments go: (start, length, width 0 for raw bytes or the float width).</summary>
    internal static List<Segment> Plan(ReadOnlySpan<byte> raw)
    {
        var segments = new List<Segment>();
        var pendingRaw = 0;
        var cursor = 0;
        var block = 0;
        var blocks = (raw.Length + BlockSize - 1) / BlockSize;
        while (block < blocks)
        {
            // A run of blocks with one layout; a short last block goes with the run before it.
            var layout = BestLayout(raw.Slice(block * BlockSize, Math.Min(BlockSize, raw.Length - (block * BlockSize))));
            var end = block + 1;
            while (end < blocks && (raw.Length - (end * BlockSize) < BlockSize / 4
                       || BestLayout(raw.Slice(end * BlockSize, Math.Min(BlockSize, raw.Length - (end * BlockSize)))) == layout))
            {
                end++;
            }

            var runEnd = Math.Min(raw.Length, end * BlockSize);
            block = end;
            if (layout.Width == 0)
            {
                pendingRaw += runEnd - cursor;
                cursor = runEnd;
                continue;
            }

            var first = cursor + (((layout.Phase - cursor) % layout.Width) + layout.Width) % layout.Width;
            var count = Math.Max(0, (runEnd - first) / layout.Width);
            if (count == 0)
            {
                pendingRaw += runEnd - cursor;
                cursor = runEnd;
                continue;
            }

            pendingRaw += first - cursor;
            if (pendingRaw > 0)
            {
                segments.Add(new Segment(first - pendingRaw, pendingRaw, 0));
            }

            segments.Add(new Segment(first, count * layout.Width, layout.Width));
            cursor = first + (count * layout.Width);
            pendingRaw = runEnd - cursor;
            cursor = runEnd;
        }

        if (pendingRaw > 0)
        {
            segments.Add(new Segment(raw.Length - pendingRaw, pendingRaw, 0));
        }

        return segments;
    }

    // The alignment whose exponents have the least entropy, per width, compared by estimated ratio: a float32's
    // exponent lies in the 16-bit word at phase + 2, a 16-bit value's in the word at its phase.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static Layout BestLayout(ReadOnlySpan<byte> block)
    {
        Span<int> byOffset = stackalloc int[4 * 256];
        CountExponentBytes(block, byOffset);

        // The ratios summed in four interleaved parts differ from the sequential sums by far less than RatioMargin;
        // only where two candidates (or a candidate and the threshold) are closer than that could the choice differ,
        // and then the sequential sums decide, as they always did.
        Span<double> ratios = stackalloc double[6];
        for (var phase = 0; phase < 4; phase++)
        {
            ratios[phase] = (FastEntropy(byOffset.Slice(((phase + 2) % 4) * 256, 256), default) + 24) / 32;
        }

        for (var phase = 0; phase < 2; phase++)
        {
            ratios[4 + phase] = (FastEntropy(byOffset.Slice(phase * 256, 256), byOffset.Slice((phase + 2) * 256, 256)) + 8) / 16;
        }

        var best = 0;
        for (var candidate = 1; candidate < 6; candidate++)
        {
            best = ratios[candidate] < ratios[best] ? candidate : best;
        }

        if (ratios[best] >= FloatWorth + RatioMargin)
        {
            return new Layout(0, 0);
        }

        var clear = Math.Abs(ratios[best] - FloatWorth) > RatioMargin;
        for (var candidate = 0; candidate < 6 && clear; candidate++)
        {
            clear = candidate == best || ratios[candidate] - ratios[best] > RatioMargin;
        }

        if (!clear)
        {
            return ExactBestLayout(byOffset);
        }

        return best < 4 ? new Layout(4, best) : new Layout(2, best - 4);
    }

    /// <summary>The choice <see cref="BestLayout"/> makes, always from the sequentially summed entropies.</summary>
    [SkipLocalsInit]
    internal static Layout SequentialBestLayout(ReadOnlySpan<byte> block)
    {
        Span<int> byOffset = stackalloc int[4 * 256];
        CountExponentBytes(block, byOffset);
        return ExactBestLayout(byOffset);
    }

    // Per offset o of the four, the histogram of bits 7..14 of the 16-bit word at j + o (the exponent's place) over
    // every j = 0, 4, 8, ... with 5 bytes left.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CountExponentBytes(ReadOnlySpan<byte> block, Span<int> byOffset)
    {
        byOffset.Clear();
        ref var counts = ref MemoryMarshal.GetReference(byOffset);
        ref var bytes = ref MemoryMarshal.GetReference(block);
        var j = 0;
        for (; j + 8 <= block.Length; j += 4)
        {
            var word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref bytes, j));
            if (!BitConverter.IsLittleEndian)
            {
                word = BinaryPrimitives.ReverseEndianness(word);
            }

            Unsafe.Add(ref counts, (int)((word >> 7) & 0xFF))++;
            Unsafe.Add(ref counts, 256 + (int)((word >> 15) & 0xFF))++;
            Unsafe.Add(ref counts, 512 + (int)((word >> 23) & 0xFF))++;
            Unsafe.Add(ref counts, 768 + (int)((word >> 31) & 0xFF))++;
        }

        for (; j + 5 <= block.Length; j += 4)
        {
            int b0 = block[j], b1 = block[j + 1], b2 = block[j + 2], b3 = block[j + 3], b4 = block[j + 4];
            byOffset[((b1 << 1) | (b0 >> 7)) & 0xFF]++;
            byOffset[256 + (((b2 << 1) | (b1 >> 7)) & 0xFF)]++;
            byOffset[512 + (((b3 << 1) | (b2 >> 7)) & 0xFF)]++;
            byOffset[768 + (((b4 << 1) | (b3 >> 7)) & 0xFF)]++;
        }
    }

    // The choice as first written, from the sequentially summed entropies.
    private static Layout ExactBestLayout(ReadOnlySpan<int> byOffset)
    {
        var best = new Layout(0, 0);
        var bestRatio = FloatWorth;
        for (var phase = 0; phase < 4; phase++)
        {
            var ratio = (Entropy(byOffset.Slice(((phase + 2) % 4) * 256, 256), default) + 24) / 32;
            if (ratio < bestRatio)
            {
                (best, bestRatio) = (new Layout(4, phase), ratio);
            }
        }

        for (var phase = 0; phase < 2; phase++)
        {
            var ratio = (Entropy(byOffset.Slice(phase * 256, 256), byOffset.Slice((phase + 2) * 256, 256)) + 8) / 16;
            if (ratio < bestRatio)
            {
                (best, bestRatio) = (new Layout(2, phase), ratio);
            }
        }

        return best;
    }

    // Entropy in bits of the sum of one or two histograms, summed in four interleaved parts (not bit for bit the
    // sequential sum: see BestLayout).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double FastEntropy(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        ref var table = ref MemoryMarshal.GetArrayDataReference(s_nLog2N);
        ref var first = ref MemoryMarshal.GetReference(a);
        ref var second = ref b.IsEmpty ? ref first : ref MemoryMarshal.GetReference(b);
        var both = b.IsEmpty ? 0 : 1;
        long total = 0;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (var s = 0; s < 256; s += 4)
        {
            var n0 = Unsafe.Add(ref first, s) + (both * Unsafe.Add(ref second, s));
            var n1 = Unsafe.Add(ref first, s + 1) + (both * Unsafe.Add(ref second, s + 1));
            var n2 = Unsafe.Add(ref first, s + 2) + (both * Unsafe.Add(ref second, s + 2));
            var n3 = Unsafe.Add(ref first, s + 3) + (both * Unsafe.Add(ref second, s + 3));
            total += n0 + n1 + n2 + n3;
            s0 += Unsafe.Add(ref table, n0);
            s1 += Unsafe.Add(ref table, n1);
            s2 += Unsafe.Add(ref table, n2);
            s3 += Unsafe.Add(ref table, n3);
        }

        return total == 0 ? 8 : Math.Log2(total) - ((s0 + s1 + s2 + s3) / total);
    }

    // Entropy in bits of the sum of one or two histograms.
    private static double Entropy(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        long total = 0;
        double sum = 0;
        for (var s = 0; s < 256; s++)
        {
            var n = a[s] + (b.IsEmpty ? 0 : b[s]);
            total += n;
            sum += s_nLog2N[n];
        }

        return total == 0 ? 8 : Math.Log2(total) - (sum / total);
    }

    private static double[] BuildNLog2N(int size)
    {
        var table = new double[size];
        for (var n = 1; n < size; n++)
        {
            table[n] = n * Math.Log2(n);
        }

        return table;
    }

    private static int EncodeFloats(ReadOnlySpan<byte> values, int width, Span<byte> destination, int zstdLevel)
    {
        var count = values.Length / width;
        var scratch = CodecScratch.Pool.Rent((width * count) + (2 * ContextRansBound(count)));
        try
        {
            var planes = scratch.AsSpan(0, width * count);
            var trial = scratch.AsSpan(width * count, ContextRansBound(count));
            var secondTrial = scratch.AsSpan((width * count) + ContextRansBound(count));
            if (width == 4)
            {
                PlaneSplitter.Split4(values, planes[..count], planes.Slice(count, count), planes.Slice(2 * count, count), planes.Slice(3 * count, count));
            }
            else
            {
                PlaneSplitter.Split2(values, planes[..count], planes.Slice(count, count));
            }

            var exponents = planes[..count];
            var position = EncodeExponentsAndSigns(planes[..count], planes.Slice(count, count), destination, trial, secondTrial, zstdLevel, values.Length);
            if (position < 0)
            {
                return -1;
            }

            for (var plane = 2; plane < width; plane++)
            {
                if (destination.Length - position < EntryHeader)
                {
                    return -1;
                }

                var symbols = planes.Slice(plane * count, count);
                var payload = destination[(position + EntryHeader)..];
                var (modeByte, length) = EncodePlane(plane, symbols, exponents, payload, trial, zstdLevel);
                if (length < 0)
                {
                    return -1;
                }

                destination[position] = modeByte;
                BinaryPrimitives.WriteUInt32LittleEndian(destination[(position + 1)..], (uint)length);
                position += EntryHeader + length;
                if (position >= values.Length)
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

    // Planes 0 and 1 as EncodePlane codes them one after the other, but with both rANS streams coded in one loop:
    // plane 1's trial is coded ahead into its own buffer and kept exactly when coding it in turn would have kept it
    // (its size decides, and a stream that beats the plane's other codings fits either buffer). Returns the position
    // after plane 1, or -1.
    [SkipLocalsInit]
    private static int EncodeExponentsAndSigns(ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> signs, Span<byte> destination,
        Span<byte> trial, Span<byte> secondTrial, int zstdLevel, int rawLength)
    {
        if (destination.Length < EntryHeader)
        {
            return -1;
        }

        var payload = destination[EntryHeader..];
        Span<byte> huffmanLengths = stackalloc byte[256];
        var (mode, length) = FloatPlaneCodec.ChoosePlane(exponents, payload, zstdLevel, huffmanLengths);
        if (length < 0)
        {
            return -1;
        }

        var target = mode == FloatPlaneCodec.PlaneMode.Zstd ? trial : payload;
        using var first = length > 1 ? ContextRansCoder.Trial.Prepare(exponents, default, PreviousMask(0)) : null;
        using var second = first is not null && first.MayBeat(length, target.Length) ? ContextRansCoder.Trial.Prepare(signs, exponents, PreviousMask(1)) : null;
        if (second is null || !second.MayBeat(secondTrial.Length, secondTrial.Length))
        {
            // Nothing to overlap: plane 0's trial (if any) alone, then plane 1 in turn.
            return EncodeInTurn(exponents, signs, destination, trial, zstdLevel, rawLength);
        }

        var (rans, ahead) = ContextRansCoder.EncodePair(first!, exponents, default, target, first!.WriteTables(target),
            second, signs, exponents, secondTrial, second.WriteTables(secondTrial));
        rans = ContextRansCoder.Trial.Accept(0, rans, length);
        var position = Finish(0, mode, length, rans, exponents, huffmanLengths, destination, trial);
        if (position >= rawLength || destination.Length - position < EntryHeader)
        {
            return -1;
        }

        var secondPayload = destination[(position + EntryHeader)..];
        (mode, length) = FloatPlaneCodec.ChoosePlane(signs, secondPayload, zstdLevel, huffmanLengths);
        if (length < 0)
        {
            return -1;
        }

        if (length > secondTrial.Length)
        {
            // Beyond what the trial ahead could hold: code plane 1 in turn.
            var (modeByte, planeLength) = EncodePlane(1, signs, exponents, secondPayload, trial, zstdLevel);
            position = planeLength < 0 ? rawLength : Header(destination, position, modeByte, planeLength);
        }
        else if (length > 1 && second.MayBeat(length, secondTrial.Length) && ContextRansCoder.Trial.Accept(0, ahead, length) > 0)
        {
            secondTrial[..ahead].CopyTo(secondPayload);
            position = Header(destination, position, ContextRansMode, ahead);
        }
        else
        {
            position = Finish(position, mode, length, -1, signs, huffmanLengths, destination, secondTrial);
        }

        return position >= rawLength ? -1 : position;
    }

    // Planes 0 and 1 one after the other; returns the position after plane 1, or -1.
    private static int EncodeInTurn(ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> signs, Span<byte> destination, Span<byte> trial, int zstdLevel, int rawLength)
    {
        var position = 0;
        for (var plane = 0; plane < 2; plane++)
        {
            if (destination.Length - position < EntryHeader)
            {
                return -1;
            }

            var (modeByte, length) = EncodePlane(plane, plane == 0 ? exponents : signs, exponents, destination[(position + EntryHeader)..], trial, zstdLevel);
            if (length < 0)
            {
                return -1;
            }

            position = Header(destination, position, modeByte, length);
            if (position >= rawLength)
            {
                return -1;
            }
        }

        return position;
    }

    // Completes a plane whose rANS trial gave `rans` bytes (-1: not kept; a kept trial already lies in the payload,
    // or, after a zstd frame, in `trial`); writes its header; returns the position after it.
    private static int Finish(int position, FloatPlaneCodec.PlaneMode mode, int length, int rans, ReadOnlySpan<byte> symbols,
        ReadOnlySpan<byte> huffmanLengths, Span<byte> destination, Span<byte> trial)
    {
        var payload = destination[(position + EntryHeader)..];
        if (rans > 0)
        {
            if (mode == FloatPlaneCodec.PlaneMode.Zstd)
            {
                trial[..rans].CopyTo(payload);
            }

            return Header(destination, position, ContextRansMode, rans);
        }

        FloatPlaneCodec.WriteChosen(mode, symbols, huffmanLengths, payload, length);
        return Header(destination, position, (byte)mode, length);
    }

    private static int Header(Span<byte> destination, int position, byte mode, int length)
    {
        destination[position] = mode;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(position + 1)..], (uint)length);
        return position + EntryHeader + length;
    }

    // The smallest of raw, constant, Huffman, zstd (FloatPlaneCodec) and context rANS, with the same choice as trying
    // each in turn, but coding only the one kept: Huffman's exact length follows from its histograms, and the rANS
    // trial is written straight into the payload unless a zstd frame is already there. Length -1: does not fit.
    [SkipLocalsInit]
    private static (byte Mode, int Length) EncodePlane(int plane, ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> exponents,
        Span<byte> payload, Span<byte> trial, int zstdLevel)
    {
        if (plane >= 2 && SampledEntropy(symbols) > NoiseEntropy)
        {
            var (rawMode, rawLength) = FloatPlaneCodec.WriteRaw(symbols, payload);
            return ((byte)rawMode, rawLength);
        }

        Span<byte> huffmanLengths = stackalloc byte[256];
        var (mode, length) = FloatPlaneCodec.ChoosePlane(symbols, payload, zstdLevel, huffmanLengths);
        if (length < 0)
        {
            return ((byte)mode, -1);
        }

        if (length > 1)
        {
            var target = mode == FloatPlaneCodec.PlaneMode.Zstd ? trial : payload;
            var rans = ContextRansCoder.Encode(symbols, plane == 0 ? default : exponents, PreviousMask(plane), target, length);
            if (rans > 0)
            {
                if (mode == FloatPlaneCodec.PlaneMode.Zstd)
                {
                    trial[..rans].CopyTo(payload);
                }

                return (ContextRansMode, rans);
            }
        }

        FloatPlaneCodec.WriteChosen(mode, symbols, huffmanLengths, payload, length);
        return ((byte)mode, length);
    }

    // What a plane's context keeps of the symbol before: all of the previous exponent (neighbours share a scale), the
    // previous sign for the sign-and-mantissa plane (neighbouring weights often share a sign), nothing for the rest.
    private static byte PreviousMask(int plane) => plane switch
    {
        0 => 0xFF,
        1 => 0x80,
        _ => 0,
    };

    // Enough room for a context rANS trial that is worth keeping (it must beat the raw plane).
    private static int ContextRansBound(int count) => count + 1024;

    // Returns the encoded bytes consumed.
    [SkipLocalsInit]
    private static int DecodeFloats(ReadOnlySpan<byte> encoded, int width, Span<byte> values)
    {
        var count = values.Length / width;
        var scratch = CodecScratch.Pool.Rent(width * count);
        try
        {
            var planes = scratch.AsSpan(0, width * count);
            Span<int> starts = stackalloc int[4];
            Span<int> lengths = stackalloc int[4];
            Span<byte> modes = stackalloc byte[4];
            var position = 0;
            for (var plane = 0; plane < width; plane++)
            {
                if (encoded.Length - position < EntryHeader)
                {
                    throw new InvalidDataException("float plane header is truncated");
                }

                modes[plane] = encoded[position];
                var length = BinaryPrimitives.ReadUInt32LittleEndian(encoded[(position + 1)..]);
                position += EntryHeader;
                if (length > (uint)(encoded.Length - position))
                {
                    throw new InvalidDataException("float plane length runs past the blob");
                }

                (starts[plane], lengths[plane]) = (position, (int)length);
                position += (int)length;
            }

            // The exponent plane and the sign plane, both context rANS in most runs, decode together.
            var paired = modes[0] == ContextRansMode && modes[1] == ContextRansMode;
            if (paired)
            {
                ContextRansCoder.DecodePair(encoded.Slice(starts[0], lengths[0]), PreviousMask(0), planes[..count],
                    encoded.Slice(starts[1], lengths[1]), PreviousMask(1), planes.Slice(count, count));
            }

            for (var plane = paired ? 2 : 0; plane < width; plane++)
            {
                var payload = encoded.Slice(starts[plane], lengths[plane]);
                var symbols = planes.Slice(plane * count, count);
                if (modes[plane] == ContextRansMode)
                {
                    ContextRansCoder.Decode(payload, plane == 0 ? default : planes[..count], PreviousMask(plane), symbols);
                }
                else
                {
                    FloatPlaneCodec.DecodePlane((FloatPlaneCodec.PlaneMode)modes[plane], payload, symbols);
                    if (modes[plane] == (byte)FloatPlaneCodec.PlaneMode.Raw)
                    {
                        payload.CopyTo(symbols);
                    }
                }
            }

            if (width == 4)
            {
                PlaneSplitter.Merge4(planes[..count], planes.Slice(count, count), planes.Slice(2 * count, count), planes.Slice(3 * count, count), values);
            }
            else
            {
                PlaneSplitter.Merge2(planes[..count], planes.Slice(count, count), values);
            }

            return position;
        }
        finally
        {
            CodecScratch.Pool.Return(scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SampledEntropy(ReadOnlySpan<byte> plane)
    {
        Span<long> histogram = stackalloc long[256];
        var stride = Math.Max(1, plane.Length / 4096);
        long total = 0;
        for (var i = 0; i < plane.Length; i += stride)
        {
            histogram[plane[i]]++;
            total++;
        }

        return ByteHistogram.Entropy(histogram, total);
    }

    /// <summary>A planned segment: raw bytes (width 0) or whole values of a float width.</summary>
    internal readonly record struct Segment(int Start, int Length, int Width);

    /// <summary>A block's alignment: width 0 (raw bytes), 2 or 4, and the phase of its first value.</summary>
    internal readonly record struct Layout(int Width, int Phase);
}
