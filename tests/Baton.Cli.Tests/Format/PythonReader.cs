using System.Diagnostics;
using System.Buffers.Binary;
using Baton.Testing;

namespace Baton.Tests.Format;

/// <summary>Runs <c>tools/baton-read.py</c>, the reader written from docs/FORMAT.md alone, with Debian's Python.</summary>
internal static class PythonReader
{
    public const string Interpreter = "/usr/bin/python3";

    public static string Script => Path.Combine(RepositoryRoot.Path, "tools", "baton-read.py");

    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Interpreter}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"baton-read.py {string.Join(' ', args)} did not finish in time");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The (run, sequence, step) lines that <c>baton-read.py ls</c> prints.</summary>
    public static List<(string Run, long Sequence, string Step)> ParseListing(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .Select(f => (f[0], long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), f[2]))
            .ToList();
}

/// <summary>Seeded float tensors of the shapes found in checkpoints.</summary>
internal static class FloatFiles
{
    /// <summary>Little-endian float32 values ~N(0, sigma).</summary>
    public static byte[] Float32(int seed, int count, double sigma = 0.05)
    {
        var random = new Random(seed);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            // Box-Muller: weights look like this, with exponents of low entropy.
            var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), (float)(normal * sigma));
        }

        return bytes;
    }

    /// <summary>The same values as bfloat16 (the top half of each float32).</summary>
    public static byte[] Bfloat16(int seed, int count, double sigma = 0.05)
    {
        var wide = Float32(seed, count, sigma);
        var bytes = new byte[count * 2];
        for (var i = 0; i < count; i++)
        {
            bytes[2 * i] = wide[(4 * i) + 2];
            bytes[(2 * i) + 1] = wide[(4 * i) + 3];
        }

        return bytes;
    }

    public static void Write(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }
}
