using System.Buffers.Binary;
using Baton.Compression;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests.Compression;

public sealed class FloatPlaneCodecTests
{
    [Property(MaxTest = 150)]
    public void Float32_values_with_special_values_decode_bit_for_bit(int seed, PositiveInt count, byte leading, byte trailing)
    {
        var values = FloatData.Float32(seed, 2048 + (count.Get % 20_000), specialShare: 0.1);
        var raw = FloatData.Frame(values, leading % 4, trailing % 4, seed);
        var phase = leading % 4;

        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var length = FloatPlaneCodec.Encode(raw, 4, phase, encoded, 3);

        Assert.True(length > 0, "mostly-Gaussian float32 data must shrink");
        var decoded = new byte[raw.Length];
        FloatPlaneCodec.Decode(encoded.AsSpan(0, length), 4, decoded);
        Assert.Equal(raw, decoded);
    }

    [Property(MaxTest = 150)]
    public void Bfloat16_values_with_special_values_decode_bit_for_bit(int seed, PositiveInt count, byte leading, byte trailing)
    {
        var values = FloatData.Bfloat16(seed, 4096 + (count.Get % 40_000), specialShare: 0.1);
        var raw = FloatData.Frame(values, leading % 2, trailing % 2, seed);
        var phase = leading % 2;

        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var length = FloatPlaneCodec.Encode(raw, 2, phase, encoded, 3);

        Assert.True(length > 0, "mostly-Gaussian bfloat16 data must shrink");
        var decoded = new byte[raw.Length];
        FloatPlaneCodec.Decode(encoded.AsSpan(0, length), 2, decoded);
        Assert.Equal(raw, decoded);
    }

    [Property(MaxTest = 100)]
    public void Any_bytes_at_any_width_and_phase_decode_bit_for_bit_or_are_refused(byte[] raw, bool wide, byte phaseSeed)
    {
        var width = wide ? 4 : 2;
        var phase = phaseSeed % width;
        if (raw.Length < phase + width)
        {
            return;
        }

        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var length = FloatPlaneCodec.Encode(raw, width, phase, encoded, 3);

        if (length > 0)
        {
            var decoded = new byte[raw.Length];
            FloatPlaneCodec.Decode(encoded.AsSpan(0, length), width, decoded);
            Assert.Equal(raw, decoded);
        }
    }

    [Property(MaxTest = 100)]
    public void Planes_hold_the_exact_exponent_sign_and_mantissa_bytes_of_each_value(int seed, PositiveInt count)
    {
        var n = count.Get % 3000;
        var raw = new byte[n * 4];
        new Random(seed).NextBytes(raw);
        var planes = new byte[n * 4];

        PlaneSplitter.Split4(raw, planes.AsSpan(0, n), planes.AsSpan(n, n), planes.AsSpan(2 * n, n), planes.AsSpan(3 * n, n));

        for (var i = 0; i < n; i++)
        {
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4));
            Assert.Equal((byte)((bits >> 23) & 0xFF), planes[i]);
            Assert.Equal((byte)((bits >> 31 << 7) | ((bits >> 16) & 0x7F)), planes[n + i]);
            Assert.Equal((byte)(bits >> 8), planes[(2 * n) + i]);
            Assert.Equal((byte)bits, planes[(3 * n) + i]);
        }

        var merged = new byte[n * 4];
        PlaneSplitter.Merge4(planes.AsSpan(0, n), planes.AsSpan(n, n), planes.AsSpan(2 * n, n), planes.AsSpan(3 * n, n), merged);
        Assert.Equal(raw, merged);
    }

    [Property(MaxTest = 100)]
    public void Sixteen_bit_planes_hold_the_exact_exponent_and_sign_with_mantissa(int seed, PositiveInt count)
    {
        var n = count.Get % 3000;
        var raw = new byte[n * 2];
        new Random(seed).NextBytes(raw);
        var planes = new byte[n * 2];

        PlaneSplitter.Split2(raw, planes.AsSpan(0, n), planes.AsSpan(n, n));

        for (var i = 0; i < n; i++)
        {
            var bits = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i * 2));
            Assert.Equal((byte)((bits >> 7) & 0xFF), planes[i]);
            Assert.Equal((byte)((bits >> 15 << 7) | (bits & 0x7F)), planes[n + i]);
        }

        var merged = new byte[n * 2];
        PlaneSplitter.Merge2(planes.AsSpan(0, n), planes.AsSpan(n, n), merged);
        Assert.Equal(raw, merged);
    }

    [Fact]
    public void Only_special_values_round_trip_through_the_blob_compressor()
    {
        uint[] specials =
        [
            0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF, 0xFFFFFFFF, 0x7F800000, 0xFF800000,
            0x00000001, 0x807FFFFF, 0x00400000, 0x00000000, 0x80000000, 0x7F7FFFFF, 0x00800000,
        ];
        var raw = new byte[(specials.Length * 4 * 4096) + 3];
        for (var i = 0; i < (raw.Length - 3) / 4; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(1 + (i * 4)), specials[(i * 7) % specials.Length]);
        }

        AssertRoundTrip(raw);
    }

    [Fact]
    public void Gaussian_float32_weights_take_the_float32_codec_and_beat_zstd_on_size()
    {
        var raw = FloatData.Frame(FloatData.Float32(7, 600_000, specialShare: 0), leading: 3, trailing: 1, seed: 7);

        var (codec, length) = Encode(raw);

        Assert.Equal(BlobCodec.Float32Planes, codec);
        var zstd = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var zstdLength = ZstdFrames.Compress(raw, zstd, 3);
        Assert.True(length < zstdLength * 0.95, $"float32 codec {length} bytes, zstd {zstdLength}");
        AssertRoundTrip(raw);
    }

    [Fact]
    public void Gaussian_bfloat16_weights_take_the_16_bit_codec_and_beat_zstd_on_size()
    {
        var raw = FloatData.Frame(FloatData.Bfloat16(11, 1_000_000, specialShare: 0), leading: 1, trailing: 1, seed: 11);

        var (codec, length) = Encode(raw);

        Assert.Equal(BlobCodec.Float16Planes, codec);
        var zstd = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var zstdLength = ZstdFrames.Compress(raw, zstd, 3);
        Assert.True(length < zstdLength * 0.9, $"16-bit codec {length} bytes, zstd {zstdLength}");
        AssertRoundTrip(raw);
    }

    [Fact]
    public void Float32_values_upcast_from_bfloat16_store_their_zero_mantissa_bytes_as_constants()
    {
        var values = FloatData.Float32(5, 300_000, specialShare: 0);
        for (var i = 0; i < values.Length; i += 4)
        {
            values[i] = 0;
            values[i + 1] = 0;
        }

        var (codec, length) = Encode(values);

        Assert.Equal(BlobCodec.Float32Planes, codec);
        Assert.True(length < values.Length * 0.45, $"{length} of {values.Length} bytes");
        AssertRoundTrip(values);
    }

    [Fact]
    public void Text_goes_to_zstd_and_random_bytes_are_stored_raw()
    {
        var text = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 4000).Select(i => $"{{\"step\": {i}, \"loss\": {1.0 / (i + 1):F6}}}\n")));
        var random = new byte[1 << 20];
        new Random(3).NextBytes(random);

        Assert.Equal(BlobCodec.Zstd, Encode(text).Codec);
        Assert.Equal(BlobCodec.None, Encode(random).Codec);
        AssertRoundTrip(text);
        AssertRoundTrip(random);
    }

    [Fact]
    public void Runs_of_zeros_inside_float_data_do_not_lose_to_zstd()
    {
        var raw = FloatData.Float32(9, 500_000, specialShare: 0);
        raw.AsSpan(0, raw.Length * 3 / 4).Clear();

        var (_, length) = Encode(raw);

        var zstd = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var zstdLength = ZstdFrames.Compress(raw, zstd, 3);
        Assert.True(length <= zstdLength + 64, $"chosen codec {length} bytes, zstd {zstdLength}");
        AssertRoundTrip(raw);
    }

    [Property(MaxTest = 300)]
    public void A_corrupted_float32_blob_is_refused_with_InvalidDataException(int seed, PositiveInt where, byte flip, bool truncate)
    {
        var raw = FloatData.Frame(FloatData.Float32(seed, 4096, specialShare: 0.05), 2, 3, seed);
        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var length = FloatPlaneCodec.Encode(raw, 4, 2, encoded, 3);
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
        Assert.Throws<InvalidDataException>(() => FloatPlaneCodec.Decode(corrupt, 4, decoded));
    }

    [Property(MaxTest = 200)]
    public void A_corrupted_bfloat16_blob_is_refused_with_InvalidDataException(int seed, PositiveInt where, byte flip)
    {
        var raw = FloatData.Frame(FloatData.Bfloat16(seed, 8192, specialShare: 0.05), 1, 1, seed);
        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var length = FloatPlaneCodec.Encode(raw, 2, 1, encoded, 3);
        Assert.True(length > 0);
        encoded[where.Get % length] ^= (byte)(flip == 0 ? 0x80 : flip);

        var decoded = new byte[raw.Length];
        Assert.Throws<InvalidDataException>(() => FloatPlaneCodec.Decode(encoded.AsSpan(0, length), 2, decoded));
    }

    [Fact]
    public void A_blob_decoded_into_the_wrong_length_is_refused()
    {
        var raw = FloatData.Float32(1, 10_000, specialShare: 0);
        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var (codec, length) = new BlobCompressor().Encode(raw, encoded);

        Assert.Equal(BlobCodec.Float32Planes, codec);
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(codec, encoded.AsSpan(0, length), new byte[raw.Length - 1]));
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(codec, encoded.AsSpan(0, length), new byte[raw.Length + 5]));
    }

    private static (BlobCodec Codec, int Length) Encode(byte[] raw) =>
        new BlobCompressor().Encode(raw, new byte[BlobCompressor.MaxEncodedLength(raw.Length)]);

    private static void AssertRoundTrip(byte[] raw)
    {
        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var (codec, length) = new BlobCompressor().Encode(raw, encoded);
        var decoded = new byte[raw.Length];
        BlobCompressor.Decode(codec, encoded.AsSpan(0, length), decoded);
        Assert.Equal(raw, decoded);
    }
}
