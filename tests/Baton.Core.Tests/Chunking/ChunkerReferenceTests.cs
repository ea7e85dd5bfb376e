using Baton.Chunking;
using FsCheck;
using FsCheck.Xunit;

namespace Baton.Tests.Chunking;

/// <summary>The optimized chunker must cut exactly where the plain one-byte-at-a-time FastCDC loop cuts.</summary>
public sealed class ChunkerReferenceTests
{
    [Property(MaxTest = 60)]
    public void The_chunker_cuts_where_the_reference_loop_cuts(int seed, PositiveInt length, bool lowEntropy)
    {
        var parameters = new ChunkerParameters(256, 2048, 8192, (ulong)seed);
        var chunker = new Chunker(parameters);
        var data = new byte[1 + (length.Get % 200_000)];
        var random = new Random(seed);
        random.NextBytes(data);
        if (lowEntropy)
        {
            for (var i = 0; i < data.Length; i++)
            {
                data[i] &= 3;
            }
        }

        var gear = Gear(parameters.Seed);
        for (var start = 0; start < data.Length;)
        {
            var expected = ReferenceCut(data.AsSpan(start), parameters, gear);
            Assert.Equal(expected, chunker.NextCut(data.AsSpan(start)));
            start += expected;
        }
    }

    [Fact]
    public void Default_parameters_cut_a_large_buffer_where_the_reference_loop_cuts()
    {
        var parameters = ChunkerParameters.Default;
        var chunker = new Chunker(parameters);
        var data = new byte[40 << 20];
        new Random(7).NextBytes(data);
        var gear = Gear(parameters.Seed);
        var cuts = 0;
        for (var start = 0; start < data.Length; cuts++)
        {
            var expected = ReferenceCut(data.AsSpan(start), parameters, gear);
            Assert.Equal(expected, chunker.NextCut(data.AsSpan(start)));
            start += expected;
        }

        Assert.InRange(cuts, 5, 80);
    }

    private static int ReferenceCut(ReadOnlySpan<byte> data, ChunkerParameters p, ulong[] gear)
    {
        if (data.Length <= p.MinSize)
        {
            return data.Length;
        }

        var bits = System.Numerics.BitOperations.Log2((uint)p.AverageSize);
        var strict = ulong.MaxValue << (64 - (bits + 2));
        var loose = ulong.MaxValue << (64 - (bits - 2));
        var end = Math.Min(data.Length, p.MaxSize);
        ulong hash = 0;
        for (var i = p.MinSize; i < end; i++)
        {
            hash = (hash << 1) + gear[data[i]];
            if ((hash & (i < p.AverageSize ? strict : loose)) == 0)
            {
                return i + 1;
            }
        }

        return end;
    }

    private static ulong[] Gear(ulong seed)
    {
        var gear = new ulong[256];
        var state = seed;
        for (var i = 0; i < gear.Length; i++)
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            gear[i] = z ^ (z >> 31);
        }

        return gear;
    }
}
