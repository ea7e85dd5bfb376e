using Baton.Compression;
using FsCheck;
using FsCheck.Xunit;

namespace Baton.Tests.Compression;

public sealed class HuffmanCoderTests
{
    [Property(MaxTest = 200)]
    public void Symbols_from_any_histogram_decode_to_themselves(int seed, PositiveInt count, byte alphabet, byte skew)
    {
        var random = new Random(seed);
        var n = 2 + (count.Get % 50_000);
        var symbols = new byte[n];
        var distinct = 2 + (alphabet % 255);
        for (var i = 0; i < n; i++)
        {
            // A geometric-like skew gives both flat and very peaked histograms.
            var s = 0;
            while (s < distinct - 1 && random.Next(256) < skew)
            {
                s++;
            }

            symbols[i] = (byte)((s * 37) % 256);
        }

        symbols[0] = 1;
        symbols[1] = 2;

        AssertRoundTrip(symbols);
    }

    [Fact]
    public void Fibonacci_frequencies_are_limited_to_eleven_bit_codes_and_still_decode()
    {
        // Fibonacci counts make the deepest possible Huffman tree.
        var counts = new long[30];
        counts[0] = counts[1] = 1;
        for (var i = 2; i < counts.Length; i++)
        {
            counts[i] = counts[i - 1] + counts[i - 2];
        }

        var symbols = new List<byte>();
        for (var s = 0; s < counts.Length; s++)
        {
            symbols.AddRange(Enumerable.Repeat((byte)s, (int)Math.Min(counts[s], 200_000)));
        }

        var histogram = new long[256];
        foreach (var s in symbols)
        {
            histogram[s]++;
        }

        var lengths = new byte[256];
        HuffmanCoder.BuildLengths(histogram, lengths);

        Assert.All(lengths, l => Assert.InRange(l, 0, HuffmanCoder.MaxCodeLength));
        Assert.Contains(lengths, l => l == HuffmanCoder.MaxCodeLength);
        AssertRoundTrip(symbols.ToArray());
    }

    [Property(MaxTest = 200)]
    public void A_corrupted_code_table_or_stream_never_crashes_the_decoder(int seed, PositiveInt where, byte flip)
    {
        var random = new Random(seed);
        var symbols = new byte[1000 + random.Next(5000)];
        for (var i = 0; i < symbols.Length; i++)
        {
            symbols[i] = (byte)Math.Min(255, Math.Abs(random.Next(16) - random.Next(16)));
        }

        symbols[0] = 200;
        var encoded = Encode(symbols);
        encoded[where.Get % encoded.Length] ^= (byte)(flip == 0 ? 1 : flip);

        var decoded = new byte[symbols.Length];
        try
        {
            HuffmanCoder.Decode(encoded, decoded);
        }
        catch (InvalidDataException)
        {
            // Refusing is right; a flip that still decodes is caught by the blob checksum one level up.
        }
    }

    private static byte[] Encode(byte[] symbols)
    {
        var histogram = new long[256];
        foreach (var s in symbols)
        {
            histogram[s]++;
        }

        var lengths = new byte[256];
        HuffmanCoder.BuildLengths(histogram, lengths);
        var encoded = new byte[HuffmanCoder.MaxEncodedLength(HuffmanCoder.CodedBits(histogram, lengths))];
        var length = HuffmanCoder.Encode(symbols, lengths, encoded);
        return encoded[..length];
    }

    private static void AssertRoundTrip(byte[] symbols)
    {
        var encoded = Encode(symbols);
        var decoded = new byte[symbols.Length];
        HuffmanCoder.Decode(encoded, decoded);
        Assert.Equal(symbols, decoded);
    }
}
