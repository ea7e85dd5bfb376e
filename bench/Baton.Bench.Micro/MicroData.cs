using System.Buffers.Binary;

namespace Baton.Bench.Micro;

/// <summary>Seeded inputs shaped like checkpoint chunks: float32 and bf16 weights ~N(0, 0.02), text, random bytes.</summary>
public static class MicroData
{
    public const int ChunkSize = 2 << 20;

    public static byte[] Float32(int seed = 1, int bytes = ChunkSize)
    {
        var random = new Random(seed);
        var data = new byte[bytes];
        for (var i = 0; i + 4 <= bytes; i += 4)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i), (float)(0.02 * Normal(random)));
        }

        return data;
    }

    public static byte[] Bfloat16(int seed = 1, int bytes = ChunkSize)
    {
        var wide = Float32(seed, bytes * 2);
        var data = new byte[bytes];
        for (var i = 0; i + 2 <= bytes; i += 2)
        {
            data[i] = wide[(2 * i) + 2];
            data[i + 1] = wide[(2 * i) + 3];
        }

        return data;
    }

    public static byte[] Text(int bytes = ChunkSize)
    {
        var text = new System.Text.StringBuilder();
        for (var step = 0; text.Length < bytes; step++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{{\"step\": {step}, \"loss\": {2.0 + (8.0 / Math.Sqrt(step + 1)):F4}}},\n");
        }

        return System.Text.Encoding.UTF8.GetBytes(text.ToString())[..bytes];
    }

    public static byte[] Random(int bytes = ChunkSize)
    {
        var data = new byte[bytes];
        new Random(5).NextBytes(data);
        return data;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
