using System.IO.Hashing;
using Baton.Compression;
using FsCheck;
using FsCheck.Xunit;

namespace Baton.Tests.Compression;

/// <summary>
/// Codec 4's faster encoder and decoder: the same bytes as the encoder before them (known answers taken from it),
/// every shortcut equal to the long way it replaces, and round trips of ordinary and adversarial floats.
/// </summary>
public sealed class CodecFourEncoderTests
{
    // Lengths and XXH64 of what the encoder wrote before it was made faster (same inputs, measured on that code).
    [Theory]
    [InlineData("float32, 2 MiB at phase 1", 2097156, 1739903, 0x7277549970A4057EUL)]
    [InlineData("bfloat16, 1 MiB at phase 0", 1048577, 691846, 0x8C26CD46DE22F2FCUL)]
    [InlineData("tensors behind headers", 882230, 700655, 0x8ADA42010EA0ADC6UL)]
    [InlineData("all equal", 400000, 758, 0x904DCE171A9D2E00UL)]
    [InlineData("NaNs with payloads", 400000, 275175, 0xBF6DD8C54C56C65AUL)]
    [InlineData("subnormals", 400000, 262675, 0x17A26F75999CD711UL)]
    [InlineData("alignment changing every block", 262144, 208845, 0x8B04BACA226854F8UL)]
    public void The_encoder_writes_the_bytes_it_wrote_before_it_was_made_faster(string name, int rawLength, int encodedLength, ulong hash)
    {
        var raw = CodecFourInputs.KnownAnswerInputs().Single(input => input.Name == name).Raw;
        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length) + 64];

        var length = FloatSegmentCodec.Encode(raw, encoded, 3);

        Assert.Equal(rawLength, raw.Length);
        Assert.Equal(encodedLength, length);
        Assert.Equal(hash, XxHash64.HashToUInt64(encoded.AsSpan(0, length)));
        var decoded = new byte[raw.Length];
        FloatSegmentCodec.Decode(encoded.AsSpan(0, length), decoded);
        Assert.Equal(raw, decoded);
    }

    [Property(MaxTest = 150)]
    public void Random_and_adversarial_floats_decode_bit_for_bit(int seed, PositiveInt size, byte kind, byte leading)
    {
        var random = new Random(seed);
        var count = 1 + (size.Get % 60_000);
        var values = (kind % 7) switch
        {
            0 => FloatData.Float32(seed, count, specialShare: 0.01),
            1 => FloatData.Bfloat16(seed, count, specialShare: 0.01),
            2 => CodecFourInputs.Repeat((uint)random.Next(), count),
            3 => CodecFourInputs.Pattern(seed, count, r => 0x7F800001u | (uint)r.Next(1 << 22) | (r.Next(2) == 0 ? 0 : 0x80000000u)),
            4 => CodecFourInputs.Pattern(seed, count, r => (uint)r.Next(1 << 23) | (r.Next(2) == 0 ? 0 : 0x80000000u)),
            5 => CodecFourInputs.AlternatingAlignments(seed, 1 + (count / 1024)),
            _ => CodecFourInputs.Tensors(random, 1 + (count % 4), specialShare: 0.2),
        };
        var raw = FloatData.Frame(values, leading % 5, kind % 3, seed);
        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length) + 64];

        var length = FloatSegmentCodec.Encode(raw, encoded, 3);

        if (length > 0)
        {
            var decoded = new byte[raw.Length];
            FloatSegmentCodec.Decode(encoded.AsSpan(0, length), decoded);
            Assert.Equal(raw, decoded);
        }
    }

    [Property(MaxTest = 100)]
    public void Decoding_the_exponent_and_sign_planes_together_gives_what_decoding_them_in_turn_gives(int seed, PositiveInt size, PositiveInt where, byte flip, bool corrupt)
    {
        var (exponents, signs) = Planes(seed, 1 + (size.Get % 40_000));
        var first = EncodeAlone(exponents, default, 0xFF);
        var second = EncodeAlone(signs, exponents, 0x80);
        if (corrupt)
        {
            var payload = where.Get % 2 == 0 ? first : second;
            payload[where.Get % payload.Length] ^= (byte)(flip == 0 ? 1 : flip);
        }

        var inTurn = Outcome(() =>
        {
            var a = new byte[exponents.Length];
            var b = new byte[exponents.Length];
            ContextRansCoder.Decode(first, default, 0xFF, a);
            ContextRansCoder.Decode(second, a, 0x80, b);
            return [.. a, .. b];
        });
        var together = Outcome(() =>
        {
            var a = new byte[exponents.Length];
            var b = new byte[exponents.Length];
            ContextRansCoder.DecodePair(first, 0xFF, a, second, 0x80, b);
            return [.. a, .. b];
        });

        Assert.Equal(inTurn, together);
        if (!corrupt)
        {
            Assert.Equal(Convert.ToHexString([.. exponents, .. signs]), together);
        }
    }

    [Property(MaxTest = 100)]
    public void Coding_two_streams_in_one_loop_gives_the_bytes_each_gets_alone(int seed, PositiveInt size)
    {
        var (exponents, signs) = Planes(seed, 1 + (size.Get % 40_000));
        var aloneFirst = EncodeAlone(exponents, default, 0xFF);
        var aloneSecond = EncodeAlone(signs, exponents, 0x80);
        using var first = ContextRansCoder.Trial.Prepare(exponents, default, 0xFF);
        using var second = ContextRansCoder.Trial.Prepare(signs, exponents, 0x80);
        var firstDestination = new byte[(2 * exponents.Length) + 10_000];
        var secondDestination = new byte[(2 * exponents.Length) + 10_000];

        var (a, b) = ContextRansCoder.EncodePair(first, exponents, default, firstDestination, first.WriteTables(firstDestination),
            second, signs, exponents, secondDestination, second.WriteTables(secondDestination));

        Assert.Equal(aloneFirst, firstDestination[..a]);
        Assert.Equal(aloneSecond, secondDestination[..b]);
    }

    [Fact]
    public void Division_by_a_reciprocal_is_exact_for_every_frequency_and_every_state_the_encoder_divides()
    {
        var random = new Random(1);
        for (var frequency = 1; frequency <= ContextRansCoder.Total; frequency++)
        {
            var coding = ContextRansCoder.SymbolCoding.Create(frequency, 0);
            const uint top = (1u << 31) - 1;
            uint[] edges = [0, 1, (uint)frequency - 1, (uint)frequency, (uint)frequency + 1, top, top - (top % (uint)frequency), top - (top % (uint)frequency) - 1];
            foreach (var x in edges)
            {
                Assert.Equal(x / (uint)frequency, coding.Divide(x));
            }

            for (var i = 0; i < 200; i++)
            {
                var x = (uint)random.Next(int.MaxValue);
                var multiple = x - (x % (uint)frequency);
                Assert.Equal(x / (uint)frequency, coding.Divide(x));
                Assert.Equal(multiple / (uint)frequency, coding.Divide(multiple));
                Assert.Equal(multiple == 0 ? 0 : (multiple - 1) / (uint)frequency, coding.Divide(multiple == 0 ? 0 : multiple - 1));
            }
        }
    }

    [Property(MaxTest = 200)]
    public void The_Huffman_length_from_the_stream_histograms_is_what_encoding_writes(int seed, PositiveInt size, byte skew)
    {
        var random = new Random(seed);
        var symbols = new byte[2 + (size.Get % 30_000)];
        var alphabet = 2 + (skew % 255);
        for (var i = 0; i < symbols.Length; i++)
        {
            symbols[i] = (byte)(random.Next(alphabet) * random.Next(alphabet) / alphabet);
        }

        symbols[0] = 0;
        symbols[1] = 1;
        Span<long> streams = stackalloc long[HuffmanCoder.StreamHistogramsLength];
        HuffmanCoder.CountStreams(symbols, streams);
        var histogram = new long[256];
        ByteHistogram.Count(symbols, histogram);
        var lengths = new byte[256];
        HuffmanCoder.BuildLengths(histogram, lengths);
        var destination = new byte[HuffmanCoder.MaxEncodedLength(HuffmanCoder.CodedBits(histogram, lengths))];

        Assert.Equal(HuffmanCoder.Encode(symbols, lengths, destination), HuffmanCoder.EncodedLength(streams, lengths));
    }

    [Property(MaxTest = 300)]
    public void A_blocks_alignment_from_interleaved_sums_is_the_one_the_sequential_sums_choose(int seed, PositiveInt size, byte kind)
    {
        var random = new Random(seed);
        var length = 1 + (size.Get % 4096);
        var block = new byte[length];
        switch (kind % 4)
        {
            case 0:
                random.NextBytes(block);
                break;
            case 1:
                FloatData.Frame(FloatData.Float32(seed, (length / 4) + 1, 0.05), 0, 0, seed).AsSpan(0, length).CopyTo(block);
                break;
            case 2:
                // A repeated short pattern: several alignments see the same histograms, so their ratios tie exactly.
                var pattern = new byte[1 + (random.Next(4) * 2)];
                random.NextBytes(pattern);
                for (var i = 0; i < length; i++)
                {
                    block[i] = pattern[i % pattern.Length];
                }

                break;
            default:
                // Floats and noise mixed so that the best ratio lands near the threshold for some seeds.
                var floats = FloatData.Float32(seed, (length / 4) + 1, 0);
                for (var i = 0; i < length; i++)
                {
                    block[i] = random.Next(100) < 30 + (seed & 31) ? (byte)random.Next(256) : floats[i];
                }

                break;
        }

        Assert.Equal(FloatSegmentCodec.SequentialBestLayout(block), FloatSegmentCodec.BestLayout(block));
    }

    private static (byte[] Exponents, byte[] Signs) Planes(int seed, int count)
    {
        var values = FloatData.Float32(seed, count, specialShare: 0.01);
        var exponents = new byte[count];
        var signs = new byte[count];
        var middle = new byte[count];
        var low = new byte[count];
        PlaneSplitter.Split4(values, exponents, signs, middle, low);
        return (exponents, signs);
    }

    private static byte[] EncodeAlone(byte[] symbols, byte[]? exponents, byte mask)
    {
        var destination = new byte[(2 * symbols.Length) + 10_000];
        var length = ContextRansCoder.Encode(symbols, exponents, mask, destination, long.MaxValue);
        Assert.True(length > 0);
        return destination[..length];
    }

    private static string Outcome(Func<byte[]> decode)
    {
        try
        {
            return Convert.ToHexString(decode());
        }
        catch (InvalidDataException)
        {
            return "refused";
        }
    }
}
