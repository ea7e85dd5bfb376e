using System.Globalization;
using System.Runtime.InteropServices;

namespace Baton.Bench;

/// <summary>What the benchmark ran on.</summary>
internal sealed record Machine(string Cpu, int Cores, double MemoryGiB, string Os, string Runtime, string Tools)
{
    public static Machine Describe()
    {
        var cpu = ReadField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memory = ReadField("/proc/meminfo", "MemTotal") is { } total
            ? long.Parse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture) / 1048576.0
            : 0;
        var tools = string.Join("; ", new[] { "restic version", "zstd --version", "python3 --version", "tar --version | head -1" }
            .Select(c => TryRun(c)));
        return new Machine(cpu, Environment.ProcessorCount, memory, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, tools);
    }

    private static string? ReadField(string file, string name)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static string TryRun(string command)
    {
        try
        {
            return Measuring.ProcessTimer.Check(command).Trim().Split('\n')[0];
        }
        catch (InvalidOperationException)
        {
            return command.Split(' ')[0] + ": missing";
        }
    }
}
