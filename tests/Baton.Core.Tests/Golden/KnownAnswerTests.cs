using System.Buffers.Binary;
using Baton.Chunking;
using Baton.Compression;
using Baton.Testing;

namespace Baton.Tests.Golden;

/// <summary>
/// Known answers for what the format fixes forever: chunk cut points for a seeded input, content ids, and each
/// codec's bytes. Every input comes from an integer-only generator, the same on every machine. The encoded vectors
/// live in tests/golden/vectors: decoding them must give the input back for as long as format v1 exists; encoding
/// the input must give them today (an encoder change, such as a new zstd, may change that legitimately: then keep
/// the old vector decoding and add the new one beside it).
/// </summary>
public sealed class KnownAnswerTests
{
    private static string Vectors => Path.Combine(RepositoryRoot.Path, "tests", "golden", "vectors");

    [Fact]
    public void The_chunker_cuts_a_seeded_input_where_it_always_has()
    {
        var small = new ChunkerParameters(1024, 4096, 16384, 42);
        Assert.Equal(ExpectedSmallCuts, Cuts(new Chunker(small), Bytes(1, 100_000)));
        Assert.Equal(ExpectedDefaultCuts, Cuts(new Chunker(ChunkerParameters.Default), Bytes(2, 12 << 20)));
    }

    [Fact]
    public void Content_ids_are_sha256_of_the_raw_bytes()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ContentId.Compute([]).ToString());
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ContentId.Compute("abc"u8).ToString());
        Assert.Equal(ExpectedSeededId, ContentId.Compute(Bytes(1, 100_000)).ToString());
        Assert.Equal(ExpectedSeededId[..16], ContentId.Compute(Bytes(1, 100_000)).ToShortString());
    }

    [Theory]
    [InlineData("none", BlobCodec.None)]
    [InlineData("zstd", BlobCodec.Zstd)]
    [InlineData("float32-planes", BlobCodec.Float32Planes)]
    [InlineData("bfloat16-planes", BlobCodec.Float16Planes)]
    [InlineData("float-segments", BlobCodec.FloatSegments)]
    public void Each_codec_decodes_its_vector_and_encodes_to_it(string name, BlobCodec codec)
    {
        var raw = Input(name);
        var vector = File.ReadAllBytes(Path.Combine(Vectors, name + ".bin"));
        var decoded = new byte[raw.Length];
        BlobCompressor.Decode(codec, vector, decoded);
        Assert.Equal(raw, decoded);

        var destination = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        // Codecs 2 and 3 are what the fast setting writes for float data, codec 4 what the small one writes.
        var compression = codec == BlobCodec.FloatSegments ? CompressionChoice.Small : CompressionChoice.Fast;
        var (chosen, length) = new BlobCompressor(3, compression).Encode(raw, destination);
        Assert.Equal(codec, chosen);
        Assert.Equal(vector, destination[..length]);
    }

    [Fact]
    public void The_delta_codec_decodes_its_vector_against_its_base_and_encodes_to_it()
    {
        var (raw, baseRaw) = (Input("delta"), Input("delta-base"));
        var vector = File.ReadAllBytes(Path.Combine(Vectors, "delta.bin"));
        Assert.Equal(baseRaw, File.ReadAllBytes(Path.Combine(Vectors, "delta-base.raw")));
        Assert.Equal(ContentId.Compute(baseRaw), DeltaCodec.BaseOf(vector));
        var decoded = new byte[raw.Length];
        BlobCompressor.Decode(BlobCodec.Delta, vector, decoded, baseRaw);
        Assert.Equal(raw, decoded);

        var destination = new byte[DeltaCodec.MaxEncodedLength(raw.Length)];
        var length = DeltaCodec.Encode(new BlobCompressor(3, CompressionChoice.Small), raw, ContentId.Compute(baseRaw), baseRaw, new byte[raw.Length], destination);
        Assert.Equal(vector, destination[..length]);

        // The vector is a delta that pays: smaller than the chunk on its own.
        var plain = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        Assert.True(length < new BlobCompressor(3, CompressionChoice.Small).Encode(raw, plain).Length);
    }

    [Fact]
    public void The_float_segment_vector_has_raw_float32_and_16_bit_segments_and_context_rans_planes()
    {
        var raw = Input("float-segments");
        var vector = File.ReadAllBytes(Path.Combine(Vectors, "float-segments.bin"));
        var (kinds, modes) = SegmentKindsAndModes(vector);
        Assert.Equal([0, 4, 0, 2], kinds);
        Assert.Contains(FloatSegmentCodec.ContextRansMode, modes);
        var decoded = new byte[raw.Length];
        FloatSegmentCodec.Decode(vector, decoded);
        Assert.Equal(raw, decoded);
    }

    [Fact]
    public void A_float_blob_with_constant_zstd_huffman_and_raw_planes_decodes_to_its_input()
    {
        // Small multiples of 1/8 with noise only in the low byte: plane 0 Huffman, 1 zstd (one dominant byte),
        // 2 constant, 3 raw. The plane modes are checked, so the vector keeps covering all four.
        var raw = Input("float32-modes");
        var vector = File.ReadAllBytes(Path.Combine(Vectors, "float32-modes.bin"));
        Assert.Equal([2, 3, 1, 0], PlaneModes(vector, 4, raw.Length));
        var decoded = new byte[raw.Length];
        BlobCompressor.Decode(BlobCodec.Float32Planes, vector, decoded);
        Assert.Equal(raw, decoded);

        var destination = new byte[raw.Length * 2];
        var length = FloatPlaneCodec.Encode(raw, 4, 0, destination, 3);
        Assert.Equal(vector, destination[..length]);
    }

    [Fact]
    public void The_huffman_coder_decodes_its_vector_and_encodes_to_it()
    {
        var symbols = Input("huffman");
        var vector = File.ReadAllBytes(Path.Combine(Vectors, "huffman.bin"));
        var decoded = new byte[symbols.Length];
        HuffmanCoder.Decode(vector, decoded);
        Assert.Equal(symbols, decoded);

        Span<long> histogram = stackalloc long[256];
        foreach (var s in symbols)
        {
            histogram[s]++;
        }

        Span<byte> lengths = stackalloc byte[256];
        HuffmanCoder.BuildLengths(histogram, lengths);
        var destination = new byte[HuffmanCoder.MaxEncodedLength(HuffmanCoder.CodedBits(histogram, lengths))];
        var written = HuffmanCoder.Encode(symbols, lengths, destination);
        Assert.Equal(vector, destination[..written]);
    }

    /// <summary>The inputs of the codec vectors.</summary>
    internal static byte[] Input(string name) => name switch
    {
        "none" => Bytes(3, 2000),
        "zstd" => [.. Enumerable.Range(0, 60).SelectMany(i => System.Text.Encoding.ASCII.GetBytes($"{{\"step\": {i * 100}, \"loss\": 0.{i:D3}}}\n"))],
        // One leading byte and two trailing ones, so the values start at phase 1 as in a chunk cut mid-tensor.
        "float32-planes" => [0x5A, .. Floats(4, 6000), 0xA5, 0x3C],
        "bfloat16-planes" => Bfloat16(Floats(5, 10_000)),
        "float32-modes" => CoarseFloats(6, 5000),
        "huffman" => [.. Floats(7, 3000).Where((_, i) => i % 4 == 3)],
        // A 7-byte header, float32 values at phase 3, 3 bytes, then bfloat16 values: the segments of a protobuf.
        "float-segments" => [.. "header\n"u8, .. WalkingFloats(8, 5000, 120, 3), 1, 2, 3, .. Bfloat16(WalkingFloats(9, 10_000, 118, 4))],
        // A training step: the same weights with their low mantissa bits moved.
        "delta-base" => WalkingFloats(10, 4000, 120, 3),
        "delta" => Nudged(WalkingFloats(10, 4000, 120, 3), Bytes(11, 8000)),
        _ => throw new ArgumentException(name),
    };

    // xorshift64*: integers only, so the same bytes on every machine and runtime.
    internal static byte[] Bytes(ulong seed, int count)
    {
        var state = seed * 0x9E3779B97F4A7C15UL | 1;
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            bytes[i] = (byte)((state * 0x2545F4914F6CDD1DUL) >> 56);
        }

        return bytes;
    }

    // float32 bit patterns like weights: random sign and mantissa, exponents clustered (geometric) below 2^-1.
    internal static byte[] Floats(ulong seed, int count)
    {
        var noise = Bytes(seed, count * 8);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            var r = BinaryPrimitives.ReadUInt64LittleEndian(noise.AsSpan(i * 8));
            var exponent = 126u - (uint)Math.Min(20, ulong.TrailingZeroCount(r | (1UL << 63)));
            var bits = ((uint)(r >> 63) << 31) | (exponent << 23) | ((uint)(r >> 20) & 0x7FFFFF);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), bits);
        }

        return bytes;
    }

    // float32 whose exponent walks among a few neighbouring values, each close to the one before it.
    private static byte[] WalkingFloats(ulong seed, int count, int lowest, int states)
    {
        var noise = Bytes(seed, count * 4);
        var bytes = new byte[count * 4];
        var exponent = lowest;
        for (var i = 0; i < count; i++)
        {
            var step = noise[4 * i];
            exponent = step < 48 && exponent > lowest ? exponent - 1 : step >= 208 && exponent < lowest + states - 1 ? exponent + 1 : exponent;
            var bits = ((uint)(noise[(4 * i) + 1] >> 7) << 31) | ((uint)exponent << 23) | ((uint)noise[(4 * i) + 2] << 15)
                | ((uint)noise[(4 * i) + 3] << 7) | (uint)(noise[(4 * i) + 1] & 0x7F);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), bits);
        }

        return bytes;
    }

    private static byte[] Nudged(byte[] floats, byte[] noise)
    {
        for (var i = 0; i < floats.Length / 4; i++)
        {
            floats[4 * i] = noise[2 * i];
            floats[(4 * i) + 1] ^= (byte)(noise[(2 * i) + 1] & 0x0F);
        }

        return floats;
    }

    private static byte[] CoarseFloats(ulong seed, int count)
    {
        var noise = Bytes(seed, count);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            // 1 + k/8 times a power of two; mostly k = 0, which makes plane 1 one dominant byte.
            var k = noise[i] < 250 ? 0u : (uint)(noise[i] & 7);
            var bits = ((uint)(120 + (noise[i] % 6)) << 23) | (k << 20) | (uint)(noise[(i * 7) % count] & 0xFF);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), bits);
        }

        return bytes;
    }

    private static byte[] Bfloat16(byte[] floats)
    {
        var bytes = new byte[floats.Length / 2];
        for (var i = 0; i < bytes.Length / 2; i++)
        {
            bytes[2 * i] = floats[(4 * i) + 2];
            bytes[(2 * i) + 1] = floats[(4 * i) + 3];
        }

        return bytes;
    }

    private static List<int> Cuts(Chunker chunker, byte[] data)
    {
        var cuts = new List<int>();
        for (var start = 0; start < data.Length;)
        {
            var length = chunker.NextCut(data.AsSpan(start));
            cuts.Add(length);
            start += length;
        }

        return cuts;
    }

    // The table of a float plane blob (FORMAT.md): mode bytes of planes 0..w-1.
    private static List<int> PlaneModes(byte[] blob, int width, int rawLength)
    {
        var phase = blob[1];
        var table = 10 + phase + ((rawLength - phase) % width);
        return [.. Enumerable.Range(0, width).Select(p => (int)blob[table + (5 * p)])];
    }

    // Codec 4 (FORMAT.md): the kind of each segment and the mode of each float plane.
    private static (List<int> Kinds, List<byte> Modes) SegmentKindsAndModes(byte[] blob)
    {
        var (kinds, modes) = (new List<int>(), new List<byte>());
        for (var position = FloatSegmentCodec.HeaderSize; position < blob.Length;)
        {
            var kind = blob[position];
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(position + 1));
            kinds.Add(kind);
            position += 5;
            if (kind == 0)
            {
                position += length;
                continue;
            }

            for (var plane = 0; plane < kind; plane++)
            {
                modes.Add(blob[position]);
                position += 5 + (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(position + 1));
            }
        }

        return (kinds, modes);
    }

    private static readonly List<int> ExpectedSmallCuts = [5494, 5667, 8429, 5146, 4598, 6499, 4256, 2693, 4880, 4822, 4579, 4677, 4955, 5217, 4212, 4805, 3260, 6668, 6868, 2275];
    private static readonly List<int> ExpectedDefaultCuts = [1559955, 2214206, 2097694, 2103859, 2280076, 2236942, 90180];
    private const string ExpectedSeededId = "4f5f5764dd7b2c7fa6488a580340f95d0b98a9600e7e2d388d3c56fcabec30bc";
}
