namespace Baton.Bench.Generation;

/// <summary>A small, fast, seeded source of normal deviates (xoshiro256** and the Box-Muller transform).</summary>
internal struct Gaussian
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare;
    private bool _hasSpare;

    public Gaussian(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
        _spare = 0;
        _hasSpare = false;
    }

    /// <summary>One deviate of N(0, 1).</summary>
    public double Next()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }

        var u = ((NextBits() >> 11) + 1) * (1.0 / (1UL << 53));
        var v = (NextBits() >> 11) * (2 * Math.PI / (1UL << 53));
        var r = Math.Sqrt(-2 * Math.Log(u));
        var (sin, cos) = Math.SinCos(v);
        _spare = r * sin;
        _hasSpare = true;
        return r * cos;
    }

    private ulong NextBits()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
