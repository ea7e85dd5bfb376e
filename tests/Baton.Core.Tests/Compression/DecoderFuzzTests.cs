using System.Buffers.Binary;
using Baton.Compression;
using Baton.Testing;
using Baton.Tests.Golden;

namespace Baton.Tests.Compression;

/// <summary>
/// The float plane and Huffman decoders on truncated and hostile input: each either decodes or throws
/// <see cref="InvalidDataException"/>, and never touches a byte outside its input or output. Input and output sit
/// against inaccessible pages (<see cref="GuardedBuffer"/>), so a read or write one byte out of bounds kills the test
/// run instead of passing unnoticed.
/// </summary>
public sealed class DecoderFuzzTests
{
    private const int Cases = 3000;

    [Fact]
    public void Float_plane_blobs_that_are_truncated_or_hostile_are_refused_without_touching_other_memory()
    {
        var outcomes = new int[2];
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var width = random.Next(2) == 0 ? 4 : 2;
            var (raw, blob) = ValidFloatBlob(random, width);
            var hostile = seed % 10 == 0 ? blob : Mutate(random, blob, FloatTableOffsets(blob, width, raw.Length));
            outcomes[Decode(hostile, raw.Length, random.Next(2) == 0, (input, output) => FloatPlaneCodec.Decode(input, width, output))]++;
        }

        // Every tenth blob is left whole and decodes in its guarded buffers; the mutated ones are refused (the XXH3
        // of the raw bytes catches what the structure checks let through).
        Assert.True(outcomes[0] >= Cases / 10 && outcomes[1] >= Cases / 2, $"{outcomes[0]} decoded, {outcomes[1]} refused");
    }

    [Fact]
    public void Huffman_planes_that_are_truncated_or_hostile_are_refused_without_touching_other_memory()
    {
        var outcomes = new int[2];
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var symbols = Symbols(random, 2 + random.Next(600));
            var blob = Huffman(symbols);
            var hostile = seed % 10 == 0 ? blob : Mutate(random, blob, [128, 132, 136]);
            var count = seed % 10 != 0 && random.Next(4) == 0 ? random.Next(700) : symbols.Length;
            outcomes[Decode(hostile, count, random.Next(2) == 0, (input, output) => HuffmanCoder.Decode(input, output))]++;
        }

        Assert.True(outcomes[0] >= Cases / 10 && outcomes[1] >= Cases / 4, $"{outcomes[0]} decoded, {outcomes[1]} refused");
    }

    [Fact]
    public void Float_segment_blobs_that_are_truncated_or_hostile_are_refused_without_touching_other_memory()
    {
        var outcomes = new int[2];
        var (tried, whole) = (0, 0);
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var raw = SegmentInput(random);
            var blob = new byte[BlobCompressor.MaxEncodedLength(raw.Length) + 64];
            var length = FloatSegmentCodec.Encode(raw, blob, 3);
            if (length < 0)
            {
                // Too small to shrink: the encoder declines, and there is no blob to attack.
                continue;
            }

            blob = blob[..length];
            tried++;
            whole += seed % 10 == 0 ? 1 : 0;
            var hostile = seed % 10 == 0 ? blob : Mutate(random, blob, SegmentFieldOffsets(blob));
            outcomes[Decode(hostile, raw.Length, random.Next(2) == 0, (input, output) => FloatSegmentCodec.Decode(input, output))]++;
        }

        // The whole blobs decode; nearly every mutated one is refused (XXH3 catches what the structure checks miss).
        Assert.True(tried >= Cases / 4 && outcomes[0] >= whole && outcomes[1] >= (tried - whole) * 9 / 10, $"{tried} blobs: {outcomes[0]} decoded, {outcomes[1]} refused");
    }

    [Fact]
    public void Context_rans_payloads_that_are_truncated_or_hostile_are_refused_without_touching_other_memory()
    {
        var outcomes = new int[2];
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var symbols = Symbols(random, 2 + random.Next(3000));
            var conditioning = Symbols(random, symbols.Length);
            var exponents = random.Next(2) == 0 ? null : conditioning;
            var mask = (byte)(random.Next(2) == 0 ? 0x80 : 0xFF);
            var blob = new byte[(2 * symbols.Length) + 10_000];
            blob = blob[..ContextRansCoder.Encode(symbols, exponents, mask, blob, long.MaxValue)];
            var hostile = seed % 10 == 0 ? blob : Mutate(random, blob, [0, 2, 2 + 256, 2 + 256 + 32]);
            var count = seed % 10 != 0 && random.Next(4) == 0 ? random.Next(symbols.Length) : symbols.Length;
            outcomes[Decode(hostile, count, random.Next(2) == 0, (input, output) => ContextRansCoder.Decode(input, exponents, mask, output))]++;
        }

        Assert.True(outcomes[0] >= Cases / 10 && outcomes[1] >= Cases / 4, $"{outcomes[0]} decoded, {outcomes[1]} refused");
    }

    [Fact]
    public void Every_truncation_of_the_codec_vectors_is_refused()
    {
        // Width 0: a Huffman plane.
        // Width 1: a float segment blob.
        foreach (var (name, width) in new[] { ("float32-planes", 4), ("float32-modes", 4), ("bfloat16-planes", 2), ("huffman", 0), ("float-segments", 1) })
        {
            var vector = File.ReadAllBytes(Path.Combine(RepositoryRoot.Path, "tests", "golden", "vectors", name + ".bin"));
            var rawLength = KnownAnswerTests.Input(name).Length;
            SpanDecoder decode = width switch
            {
                0 => (input, output) => HuffmanCoder.Decode(input, output),
                1 => (input, output) => FloatSegmentCodec.Decode(input, output),
                _ => (input, output) => FloatPlaneCodec.Decode(input, width, output),
            };
            for (var length = 0; length < vector.Length; length += 1 + (length / 64))
            {
                Assert.True(Decode(vector[..length], rawLength, guardAfter: true, decode) == 1, $"{name} cut to {length} bytes decoded");
            }
        }
    }

    [Fact]
    public void Guarded_buffers_touch_an_inaccessible_page_on_the_side_under_test()
    {
        var page = Environment.SystemPageSize;
        foreach (var length in new[] { 0, 1, 10, page - 1, page, page + 3 })
        {
            using var after = GuardedBuffer.EndingAtGuard(length);
            Assert.Equal(0, (after.Address + length) % page);
            using var before = GuardedBuffer.StartingAtGuard(length);
            Assert.Equal(0, before.Address % page);
            after.Span.Fill(0xAB);
            before.Span.Fill(0xCD);
            Assert.Equal(length, after.Span.Length);
        }
    }

    // 0 when it decoded, 1 when it refused with InvalidDataException; anything else fails the test.
    private static int Decode(byte[] input, int outputLength, bool guardAfter, SpanDecoder decode)
    {
        using var source = GuardedBuffer.Of(input, guardAfter);
        using var target = guardAfter ? GuardedBuffer.EndingAtGuard(outputLength) : GuardedBuffer.StartingAtGuard(outputLength);
        try
        {
            decode(source.Span, target.Span);
            return 0;
        }
        catch (InvalidDataException)
        {
            return 1;
        }
    }

    private delegate void SpanDecoder(ReadOnlySpan<byte> input, Span<byte> output);

    private static (byte[] Raw, byte[] Blob) ValidFloatBlob(Random random, int width)
    {
        var phase = random.Next(width);
        var count = 1 + random.Next(random.Next(2) == 0 ? 40 : 3000);
        var tail = random.Next(width);
        var raw = new byte[phase + (count * width) + tail];
        random.NextBytes(raw);
        for (var i = 0; i < count; i++)
        {
            // Clustered exponents (Huffman), a dominant top mantissa byte half the time (zstd), low bytes zero
            // a third of the time (constant), noise otherwise (raw).
            var top = phase + (i * width) + width - 1;
            raw[top] = (byte)((raw[top] & 0x80) | (0x3C + random.Next(3)));
            if (random.Next(2) == 0)
            {
                raw[top - 1] = (byte)(raw[top - 1] & 0x80);
            }
        }

        var destination = new byte[(raw.Length * 2) + 256];
        var length = FloatPlaneCodec.Encode(raw, width, phase, destination, 3);
        if (length < 0)
        {
            // Too small to compress: write the layout by hand with every plane raw, still a valid blob.
            length = RawPlanes(raw, width, phase, destination);
        }

        return (raw, destination[..length]);
    }

    private static int RawPlanes(byte[] raw, int width, int phase, byte[] destination)
    {
        var count = (raw.Length - phase) / width;
        var tail = raw.Length - phase - (count * width);
        destination[0] = 1;
        destination[1] = (byte)phase;
        BinaryPrimitives.WriteUInt64LittleEndian(destination.AsSpan(2), System.IO.Hashing.XxHash3.HashToUInt64(raw));
        raw.AsSpan(0, phase).CopyTo(destination.AsSpan(10));
        raw.AsSpan(raw.Length - tail).CopyTo(destination.AsSpan(10 + phase));
        var table = 10 + phase + tail;
        var position = table + (5 * width);
        for (var plane = width - 1; plane >= 0; plane--)
        {
            destination[table + (5 * plane)] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(destination.AsSpan(table + (5 * plane) + 1), (uint)count);
            for (var i = 0; i < count; i++)
            {
                var v = width == 4
                    ? BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(phase + (i * 4)))
                    : BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(phase + (i * 2)));
                destination[position + i] = (width, plane) switch
                {
                    (4, 0) => (byte)(v >> 23),
                    (4, 1) => (byte)(((v >> 24) & 0x80) | ((v >> 16) & 0x7F)),
                    (4, 2) => (byte)(v >> 8),
                    (4, _) => (byte)v,
                    (_, 0) => (byte)(v >> 7),
                    _ => (byte)(((v >> 8) & 0x80) | (v & 0x7F)),
                };
            }

            position += count;
        }

        return position;
    }

    // Header bytes, float32 and bfloat16 runs at odd alignments, sometimes tiny.
    private static byte[] SegmentInput(Random random)
    {
        var small = random.Next(2) == 0;
        var header = new byte[random.Next(9)];
        random.NextBytes(header);
        var floats = FloatData.Float32(random.Next(), 1 + random.Next(small ? 40 : 3000), specialShare: 0.05);
        var halves = FloatData.Bfloat16(random.Next(), 1 + random.Next(small ? 40 : 6000), specialShare: 0.05);
        return [.. header, .. floats, .. header, .. halves];
    }

    // The kind and length of every segment and the mode and length of every plane (FORMAT.md, codec 4).
    private static List<int> SegmentFieldOffsets(byte[] blob)
    {
        var fields = new List<int> { 1 };
        for (var position = FloatSegmentCodec.HeaderSize; position + 5 <= blob.Length;)
        {
            var kind = blob[position];
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(position + 1));
            fields.AddRange([position, position + 1]);
            position += 5;
            if (kind == 0)
            {
                position += length;
                continue;
            }

            for (var plane = 0; plane < kind && position + 5 <= blob.Length; plane++)
            {
                fields.AddRange([position, position + 1]);
                position += 5 + (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(position + 1));
            }
        }

        return fields;
    }

    private static List<int> FloatTableOffsets(byte[] blob, int width, int rawLength)
    {
        var phase = blob[1] < width ? blob[1] : 0;
        var table = 10 + phase + ((rawLength - phase) % width);
        return [1, .. Enumerable.Range(0, width).SelectMany(p => new[] { table + (5 * p), table + (5 * p) + 1 })];
    }

    private static byte[] Symbols(Random random, int count)
    {
        var symbols = new byte[count];
        var alphabet = 2 + random.Next(random.Next(2) == 0 ? 6 : 254);
        for (var i = 0; i < count; i++)
        {
            symbols[i] = (byte)(random.Next(alphabet) * random.Next(alphabet) / alphabet);
        }

        symbols[0] = 0;
        symbols[^1] = 1;
        return symbols;
    }

    private static byte[] Huffman(byte[] symbols)
    {
        Span<long> histogram = stackalloc long[256];
        foreach (var s in symbols)
        {
            histogram[s]++;
        }

        Span<byte> lengths = stackalloc byte[256];
        HuffmanCoder.BuildLengths(histogram, lengths);
        var destination = new byte[HuffmanCoder.MaxEncodedLength(HuffmanCoder.CodedBits(histogram, lengths))];
        return destination[..HuffmanCoder.Encode(symbols, lengths, destination)];
    }

    // Truncation, bit flips, hostile length fields (at the given offsets: little-endian u32s or single bytes), or
    // random bytes behind a valid start.
    private static byte[] Mutate(Random random, byte[] blob, IReadOnlyList<int> fields)
    {
        var hostile = (byte[])blob.Clone();
        switch (random.Next(5))
        {
            case 0:
                return hostile[..random.Next(hostile.Length)];
            case 1:
                for (var flips = 1 + random.Next(4); flips > 0; flips--)
                {
                    hostile[random.Next(hostile.Length)] ^= (byte)(1 << random.Next(8));
                }

                return hostile;
            case 2:
                var field = fields[random.Next(fields.Count)];
                if (field + 4 <= hostile.Length)
                {
                    uint[] values = [0, 1, 7, 8, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, (uint)hostile.Length, (uint)random.Next(hostile.Length + 16)];
                    BinaryPrimitives.WriteUInt32LittleEndian(hostile.AsSpan(field), values[random.Next(values.Length)]);
                }

                return hostile;
            case 3:
                var start = random.Next(hostile.Length);
                random.NextBytes(hostile.AsSpan(start));
                return hostile;
            default:
                // Only the tail goes: streams end early, or payloads run short.
                return hostile[..Math.Max(0, hostile.Length - 1 - random.Next(16))];
        }
    }
}
