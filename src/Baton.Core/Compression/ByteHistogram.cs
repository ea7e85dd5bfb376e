using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Baton.Compression;

/// <summary>Byte frequency counts and their order-0 entropy.</summary>
internal static class ByteHistogram
{
    /// <summary>Counts every byte of <paramref name="data"/> into <paramref name="histogram"/> (256 entries, cleared first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Count(ReadOnlySpan<byte> data, Span<long> histogram)
    {
        // Four tables so that runs of equal bytes do not serialize on one counter.
        Span<uint> counts = stackalloc uint[1024];
        ref var c = ref MemoryMarshal.GetReference(counts);
        ref var d = ref MemoryMarshal.GetReference(data);
        var i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            var word = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref d, i));
            Unsafe.Add(ref c, (int)(word & 0xFF))++;
            Unsafe.Add(ref c, 256 + (int)((word >> 8) & 0xFF))++;
            Unsafe.Add(ref c, 512 + (int)((word >> 16) & 0xFF))++;
            Unsafe.Add(ref c, 768 + (int)(word >> 24))++;
        }

        for (; i < data.Length; i++)
        {
            counts[data[i]]++;
        }

        for (var s = 0; s < 256; s++)
        {
            histogram[s] = (long)counts[s] + counts[256 + s] + counts[512 + s] + counts[768 + s];
        }
    }

    /// <summary>Shannon entropy in bits per symbol of a histogram holding <paramref name="total"/> symbols.</summary>
    public static double Entropy(ReadOnlySpan<long> histogram, long total)
    {
        if (total == 0)
        {
            return 0;
        }

        double bits = 0;
        foreach (var n in histogram)
        {
            if (n > 0)
            {
                var p = (double)n / total;
                bits -= p * Math.Log2(p);
            }
        }

        return bits;
    }
}
