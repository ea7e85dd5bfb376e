using System.Buffers.Binary;
using Baton.Compression;
using FsCheck;
using FsCheck.Xunit;

namespace Baton.Tests.Compression;

public sealed class FloatSegmentCodecTests
{
    [Property(MaxTest = 100)]
    public void Tensors_at_any_alignment_with_headers_between_them_decode_bit_for_bit(int seed, PositiveInt tensors)
    {
        var random = new Random(seed);
        var raw = Protobuf(random, 1 + (tensors.Get % 5), specialShare: 0.05);

        var (codec, length) = Encode(raw, out var encoded);

        Assert.Equal(BlobCodec.FloatSegments, codec);
        var decoded = new byte[raw.Length];
        BlobCompressor.Decode(codec, encoded.AsSpan(0, length), decoded);
        Assert.Equal(raw, decoded);
    }

    [Property(MaxTest = 100)]
    public void Any_bytes_decode_bit_for_bit_or_are_not_encoded(byte[] raw, int seed)
    {
        // Random bytes with a float run spliced in somewhere, so that some inputs do get float segments.
        var random = new Random(seed);
        var floats = FloatData.Float32(seed, random.Next(8000), specialShare: 0.2);
        byte[] input = [.. raw, .. floats, .. raw];
        var encoded = new byte[BlobCompressor.MaxEncodedLength(input.Length) + 64];

        var length = FloatSegmentCodec.Encode(input, encoded, 3);

        if (length > 0)
        {
            var decoded = new byte[input.Length];
            FloatSegmentCodec.Decode(encoded.AsSpan(0, length), decoded);
            Assert.Equal(input, decoded);
        }
    }

    [Fact]
    public void A_chunk_whose_tensors_change_alignment_is_coded_at_each_tensors_own_alignment()
    {
        // An ONNX file stores tensors as protobuf fields: each starts wherever its header ends. Codec 2 had one
        // alignment per chunk, and the tensors at the other three alignments looked like noise to it.
        var random = new Random(5);
        var raw = Protobuf(random, 8, specialShare: 0);
        var planes = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var best = Enumerable.Range(0, 4).Min(phase => FloatPlaneCodec.Encode(raw, 4, phase, planes, 3) is > 0 and var n ? n : raw.Length);

        var (codec, length) = Encode(raw, out _);

        Assert.Equal(BlobCodec.FloatSegments, codec);
        Assert.True(length < best * 0.95, $"codec 4 {length} bytes, codec 2 at its best alignment {best} of {raw.Length}");
        Assert.True(length < raw.Length * 0.86, $"codec 4 {length} of {raw.Length} bytes");
    }

    [Fact]
    public void Exponents_that_follow_their_neighbours_cost_less_than_under_one_table()
    {
        // Each exponent is one of three, mostly the one before it: order 0 sees ~1.5 bits, the context far fewer.
        var raw = new byte[4 * 500_000];
        var random = new Random(9);
        var exponent = 120;
        for (var i = 0; i < raw.Length / 4; i++)
        {
            exponent = random.Next(16) == 0 ? 119 + random.Next(3) : exponent;
            var bits = ((uint)random.Next(2) << 31) | ((uint)exponent << 23) | (uint)random.Next(1 << 23);
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(i * 4), bits);
        }

        var planes = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var order0 = FloatPlaneCodec.Encode(raw, 4, 0, planes, 3);

        var (codec, length) = Encode(raw, out _);

        Assert.Equal(BlobCodec.FloatSegments, codec);
        var savedBitsPerValue = (order0 - length) * 8.0 / (raw.Length / 4);
        Assert.True(savedBitsPerValue > 0.8, $"codec 4 {length} bytes, codec 2 {order0}: {savedBitsPerValue:F2} bits per value saved");
    }

    [Property(MaxTest = 200)]
    public void Context_rans_decodes_what_it_encoded(int seed, PositiveInt count, byte lagSeed)
    {
        var random = new Random(seed);
        var n = count.Get % 20_000;
        var conditioning = new byte[n];
        var symbols = new byte[n];
        var alphabet = 1 + random.Next(random.Next(2) == 0 ? 4 : 256);
        for (var i = 0; i < n; i++)
        {
            conditioning[i] = (byte)random.Next(random.Next(2) == 0 ? 3 : 256);
            symbols[i] = (byte)((conditioning[i] + (random.Next(alphabet) * random.Next(alphabet) / alphabet)) & 0xFF);
        }

        // The three ways codec 4 conditions: on the previous symbol, on the exponent and previous sign, on the exponent.
        var (exponents, mask) = (lagSeed % 3) switch
        {
            0 => (default(byte[]), (byte)0xFF),
            1 => (conditioning, (byte)0x80),
            _ => (conditioning, (byte)0),
        };
        var encoded = new byte[(2 * n) + 10_000];
        var length = ContextRansCoder.Encode(symbols, exponents, mask, encoded, long.MaxValue);

        Assert.True(length > 0);
        var decoded = new byte[n];
        ContextRansCoder.Decode(encoded.AsSpan(0, length), exponents, mask, decoded);
        Assert.Equal(symbols, decoded);
    }

    [Property(MaxTest = 300)]
    public void A_corrupted_float_segment_blob_is_refused_with_InvalidDataException(int seed, PositiveInt where, byte flip, bool truncate)
    {
        var raw = Protobuf(new Random(seed), 2, specialShare: 0.05);
        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var length = FloatSegmentCodec.Encode(raw, encoded, 3);
        Assert.True(length > 0);
        var corrupt = encoded.AsSpan(0, length).ToArray();
        if (truncate)
        {
            corrupt = corrupt[..(where.Get % length)];
        }
        else
        {
            corrupt[where.Get % length] ^= (byte)(flip == 0 ? 1 : flip);
        }

        var decoded = new byte[raw.Length];
        Assert.Throws<InvalidDataException>(() => FloatSegmentCodec.Decode(corrupt, decoded));
    }

    [Fact]
    public void A_float_segment_blob_decoded_into_the_wrong_length_is_refused()
    {
        var raw = Protobuf(new Random(3), 3, specialShare: 0);
        var (codec, length) = Encode(raw, out var encoded);

        Assert.Equal(BlobCodec.FloatSegments, codec);
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(codec, encoded.AsSpan(0, length), new byte[raw.Length - 1]));
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(codec, encoded.AsSpan(0, length), new byte[raw.Length + 4]));
    }

    /// <summary>
    /// Tensors one after another, each behind a header of a few bytes (as protobuf or pickle write them), float32 or
    /// bfloat16, so each starts at whatever alignment the bytes before it leave.
    /// </summary>
    internal static byte[] Protobuf(Random random, int tensors, double specialShare)
    {
        var bytes = new List<byte>();
        for (var t = 0; t < tensors; t++)
        {
            var header = new byte[3 + random.Next(14)];
            random.NextBytes(header);
            bytes.AddRange(header);
            var count = 8192 + random.Next(30_000);
            bytes.AddRange(random.Next(4) == 0
                ? FloatData.Bfloat16(random.Next(), count, specialShare)
                : FloatData.Float32(random.Next(), count, specialShare));
        }

        return [.. bytes];
    }

    private static (BlobCodec Codec, int Length) Encode(byte[] raw, out byte[] encoded)
    {
        encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        return new BlobCompressor(3, CompressionChoice.Small).Encode(raw, encoded);
    }
}
