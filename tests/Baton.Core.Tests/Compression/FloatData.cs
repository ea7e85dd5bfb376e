using System.Buffers.Binary;

namespace Baton.Tests.Compression;

/// <summary>Seeded float tensors like the ones in checkpoints, with special values sprinkled in.</summary>
internal static class FloatData
{
    private static readonly uint[] Specials =
    [
        0x7FC00000, 0xFFC00001, 0x7F800001, 0x7FBFFFFF, 0xFFFFFFFF, // NaNs with payloads, quiet and signalling
        0x7F800000, 0xFF800000, // infinities
        0x00000001, 0x807FFFFF, 0x00400000, // subnormals
        0x00000000, 0x80000000, // zeros
        0x7F7FFFFF, 0x00800000, 0xFF7FFFFF, // extremes
    ];

    /// <summary>Little-endian float32 values ~N(0, sigma) with sigma picked by the seed, a share of them special.</summary>
    public static byte[] Float32(int seed, int count, double specialShare)
    {
        var random = new Random(seed);
        var sigma = Sigma(random);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            var bits = random.NextDouble() < specialShare
                ? Special(random)
                : BitConverter.SingleToUInt32Bits((float)(Normal(random) * sigma));
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), bits);
        }

        return bytes;
    }

    /// <summary>The same as bfloat16 (the top half of each float32, as a truncating cast gives).</summary>
    public static byte[] Bfloat16(int seed, int count, double specialShare)
    {
        var wide = Float32(seed, count, specialShare);
        var bytes = new byte[count * 2];
        for (var i = 0; i < count; i++)
        {
            bytes[2 * i] = wide[(4 * i) + 2];
            bytes[(2 * i) + 1] = wide[(4 * i) + 3];
        }

        return bytes;
    }

    /// <summary>Puts random bytes before and after the values, as a chunk cut mid-value has.</summary>
    public static byte[] Frame(byte[] values, int leading, int trailing, int seed)
    {
        var random = new Random(~seed);
        var framed = new byte[leading + values.Length + trailing];
        random.NextBytes(framed.AsSpan(0, leading));
        values.CopyTo(framed, leading);
        random.NextBytes(framed.AsSpan(leading + values.Length));
        return framed;
    }

    private static double Sigma(Random random) => random.Next(4) switch
    {
        0 => 0.02,
        1 => 1e-3,
        2 => 1.0,
        _ => 1e-6,
    };

    private static uint Special(Random random)
    {
        var bits = Specials[random.Next(Specials.Length)];
        return (bits & 0x7F800000) == 0x7F800000 && (bits & 0x007FFFFF) != 0
            ? (bits & 0xFF800000) | (uint)random.Next(1, 0x007FFFFF) // another NaN payload
            : bits;
    }

    private static double Normal(Random random)
    {
        var u = 1.0 - random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}
