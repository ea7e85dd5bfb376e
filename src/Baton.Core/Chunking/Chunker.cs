using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Baton.Chunking;

/// <summary>
/// FastCDC content-defined chunking with a gear rolling hash and normalized chunking (two masks: a stricter one
/// before the average size and a looser one after, which narrows the size distribution). Stateless between
/// chunks and thread-safe.
/// </summary>
public sealed class Chunker
{
    private readonly ulong[] _gear = new ulong[256];
    private readonly ulong _maskStrict;
    private readonly ulong _maskLoose;

    /// <summary>Creates a chunker; the gear table is derived from the parameters' seed.</summary>
    public Chunker(ChunkerParameters parameters)
    {
        parameters.Validate();
        Parameters = parameters;
        var state = parameters.Seed;
        for (var i = 0; i < _gear.Length; i++)
        {
            _gear[i] = SplitMix64(ref state);
        }

        // With h = (h << 1) + gear[b], bit k of h depends on the last k+1 bytes, so the masks use the top bits.
        var bits = BitOperations.Log2((uint)parameters.AverageSize);
        _maskStrict = ulong.MaxValue << (64 - (bits + 2));
        _maskLoose = ulong.MaxValue << (64 - (bits - 2));
    }

    /// <summary>The sizes this chunker cuts with.</summary>
    public ChunkerParameters Parameters { get; }

    /// <summary>
    /// Returns the length of the chunk that starts at <paramref name="data"/>[0]. The caller passes at least
    /// <see cref="ChunkerParameters.MaxSize"/> bytes, or everything that is left at the end of the input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int NextCut(ReadOnlySpan<byte> data)
    {
        var p = Parameters;
        if (data.Length <= p.MinSize)
        {
            return data.Length;
        }

        var end = Math.Min(data.Length, p.MaxSize);
        var normal = Math.Min(end, p.AverageSize);
        ref var start = ref MemoryMarshal.GetReference(data);
        ref var gear = ref MemoryMarshal.GetArrayDataReference(_gear);
        ulong hash = 0;
        var cut = Scan(ref start, ref gear, ref hash, p.MinSize, normal, _maskStrict);
        if (cut > 0)
        {
            return cut;
        }

        cut = Scan(ref start, ref gear, ref hash, normal, end, _maskLoose);
        return cut > 0 ? cut : end;
    }

    // Rolls the gear hash over [from, to) and returns the length up to the first position whose hash has the masked
    // bits clear, or -1. Two bytes per step: h2 = 4h + (2g0 + g1) keeps the loop-carried chain to one shift-add per
    // two bytes, while h1 = 2h + g0 is tested off the chain; the hashes are exactly those of the one-byte recurrence.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Scan(ref byte start, ref ulong gear, ref ulong state, int from, int to, ulong mask)
    {
        var hash = state;
        var i = from;
        for (; i + 2 <= to; i += 2)
        {
            var g0 = Unsafe.Add(ref gear, Unsafe.Add(ref start, i));
            var g1 = Unsafe.Add(ref gear, Unsafe.Add(ref start, i + 1));
            var first = (hash << 1) + g0;
            hash = (hash << 2) + ((g0 << 1) + g1);
            if ((first & mask) == 0)
            {
                return i + 1;
            }

            if ((hash & mask) == 0)
            {
                return i + 2;
            }
        }

        if (i < to)
        {
            hash = (hash << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref start, i));
            if ((hash & mask) == 0)
            {
                return i + 1;
            }
        }

        state = hash;
        return -1;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
