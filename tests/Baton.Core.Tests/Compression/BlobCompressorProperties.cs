using Baton.Compression;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests.Compression;

public sealed class BlobCompressorProperties
{
    private static readonly Gen<byte[]> RandomBytes =
        from length in Gen.Choose(0, 300_000)
        from seed in ArbMap.Default.GeneratorFor<int>()
        select Random(length, seed);

    // Runs of a few symbols, like quantised or sparse tensors: zstd shrinks these a lot.
    private static readonly Gen<byte[]> CompressibleBytes =
        from length in Gen.Choose(1, 300_000)
        from seed in ArbMap.Default.GeneratorFor<int>()
        select Compressible(length, seed);

    private static readonly Gen<int> Levels = Gen.Elements(1, 3, 9);

    [Property(MaxTest = 100)]
    public Property Random_data_round_trips_and_is_stored_raw() => Prop.ForAll(Arb.From(RandomBytes), Arb.From(Levels), (data, level) =>
    {
        var (codec, encoded) = Encode(new BlobCompressor(level), data);
        Assert.Equal(BlobCodec.None, codec);
        Assert.Equal(data, Decode(codec, encoded, data.Length));
    });

    [Property(MaxTest = 100)]
    public Property Compressible_data_round_trips_and_shrinks() => Prop.ForAll(Arb.From(CompressibleBytes), Arb.From(Levels), (data, level) =>
    {
        var (codec, encoded) = Encode(new BlobCompressor(level), data);
        Assert.Equal(data, Decode(codec, encoded, data.Length));
        if (data.Length >= 4096)
        {
            Assert.Equal(BlobCodec.Zstd, codec);
            Assert.True(encoded.Length < data.Length / 2, $"{data.Length} bytes encoded to {encoded.Length}");
        }
    });

    [Property(MaxTest = 200)]
    public Property A_damaged_zstd_blob_fails_only_as_invalid_data()
    {
        var cases =
            from data in CompressibleBytes
            from position in Gen.Choose(0, int.MaxValue)
            from bit in Gen.Choose(0, 7)
            select (data, position, bit);
        return Prop.ForAll(Arb.From(cases), c =>
        {
            var (codec, encoded) = Encode(new BlobCompressor(), c.data);
            encoded[c.position % encoded.Length] ^= (byte)(1 << c.bit);
            // Any other exception type escapes and fails the property. A frame may also decode "successfully" to other
            // bytes (zstd frames carry no checksum here): the caller's SHA-256 check is what stops those.
            var output = new byte[c.data.Length];
            try
            {
                BlobCompressor.Decode(codec, encoded, output);
            }
            catch (InvalidDataException)
            {
            }
        });
    }

    [Fact]
    public void A_destination_of_the_wrong_length_is_invalid_data()
    {
        var data = Compressible(10_000, 1);
        var (codec, encoded) = Encode(new BlobCompressor(), data);
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(codec, encoded, new byte[data.Length - 1]));
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(codec, encoded, new byte[data.Length + 1]));
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(BlobCodec.None, data, new byte[data.Length + 1]));
    }

    [Theory]
    [InlineData((byte)6)]
    [InlineData((byte)200)]
    public void An_unknown_codec_asks_for_a_newer_baton(byte codec)
    {
        var error = Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode((BlobCodec)codec, new byte[10], new byte[10]));
        Assert.Contains("newer baton", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Many_threads_encode_and_decode_at_once()
    {
        var compressor = new BlobCompressor();
        await Parallel.ForEachAsync(Enumerable.Range(0, 64), async (i, _) =>
        {
            await Task.Yield();
            var data = Compressible(50_000 + i, i);
            var (codec, encoded) = Encode(compressor, data);
            Assert.Equal(data, Decode(codec, encoded, data.Length));
        });
    }

    private static (BlobCodec Codec, byte[] Encoded) Encode(BlobCompressor compressor, byte[] data)
    {
        var buffer = new byte[BlobCompressor.MaxEncodedLength(data.Length)];
        var (codec, length) = compressor.Encode(data, buffer);
        return (codec, buffer[..length]);
    }

    private static byte[] Decode(BlobCodec codec, byte[] encoded, int rawLength)
    {
        var output = new byte[rawLength];
        BlobCompressor.Decode(codec, encoded, output);
        return output;
    }

    private static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static byte[] Compressible(int length, int seed)
    {
        var random = new Random(seed);
        var data = new byte[length];
        for (var i = 0; i < length;)
        {
            var run = Math.Min(length - i, random.Next(1, 64));
            data.AsSpan(i, run).Fill((byte)random.Next(0, 4));
            i += run;
        }

        return data;
    }
}
