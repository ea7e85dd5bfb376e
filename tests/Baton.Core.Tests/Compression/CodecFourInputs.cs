using System.Buffers.Binary;

namespace Baton.Tests.Compression;

/// <summary>
/// Seeded inputs for codec 4's known answers and property tests: realistic tensors and the adversarial cases (all
/// equal, NaNs, subnormals, runs that change alignment every block).
/// </summary>
internal static class CodecFourInputs
{
    /// <summary>The named inputs whose encodings the known-answer test pins.</summary>
    public static IEnumerable<(string Name, byte[] Raw)> KnownAnswerInputs()
    {
        yield return ("float32, 2 MiB at phase 1", FloatData.Frame(FloatData.Float32(11, 512 * 1024, 0.01), 1, 3, 11));
        yield return ("bfloat16, 1 MiB at phase 0", FloatData.Frame(FloatData.Bfloat16(12, 512 * 1024, 0.01), 0, 1, 12));
        yield return ("tensors behind headers", Tensors(new Random(7), 12, 0.02));
        yield return ("all equal", Repeat(0x3C23D70Au, 100_000));
        yield return ("NaNs with payloads", Pattern(13, 100_000, random => 0x7FC00000u | (uint)random.Next(1 << 22)));
        yield return ("subnormals", Pattern(14, 100_000, random => (uint)random.Next(1 << 20) | (random.Next(2) == 0 ? 0 : 0x80000000u)));
        yield return ("alignment changing every block", AlternatingAlignments(15, 64));
    }

    /// <summary>Tensors (float32 or bfloat16) one after another, each behind a header of 3 to 16 bytes.</summary>
    public static byte[] Tensors(Random random, int tensors, double specialShare) => FloatSegmentCodecTests.Protobuf(random, tensors, specialShare);

    /// <summary>Blocks of 4 KiB, each float32 or bfloat16 at an alignment of its own.</summary>
    public static byte[] AlternatingAlignments(int seed, int blocks)
    {
        var random = new Random(seed);
        var bytes = new List<byte>();
        for (var b = 0; b < blocks; b++)
        {
            var skip = random.Next(4);
            var values = random.Next(2) == 0 ? FloatData.Float32(random.Next(), 1024, 0.01) : FloatData.Bfloat16(random.Next(), 2048, 0.01);
            bytes.AddRange(values.AsSpan(skip, 4096 - skip).ToArray());
            bytes.AddRange(new byte[skip]);
        }

        return [.. bytes];
    }

    /// <summary>One float32 bit pattern, repeated.</summary>
    public static byte[] Repeat(uint bits, int count) => Pattern(0, count, _ => bits);

    /// <summary>float32 values from a seeded generator of bit patterns.</summary>
    public static byte[] Pattern(int seed, int count, Func<Random, uint> next)
    {
        var random = new Random(seed);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), next(random));
        }

        return bytes;
    }
}
