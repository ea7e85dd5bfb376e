using System.Diagnostics;
using System.Globalization;

namespace Baton.Bench.Measuring;

/// <summary>What one timed command did.</summary>
/// <param name="Seconds">Whole-process wall time.</param>
/// <param name="PeakRssBytes">Peak resident set size of the largest process of the command (GNU time's %M).</param>
/// <param name="CpuSeconds">User plus system CPU time of the command and its children: on a shared machine, the
/// part of the cost that other processes' load does not inflate.</param>
internal readonly record struct Timing(double Seconds, long PeakRssBytes, double CpuSeconds);

/// <summary>Runs a shell command under GNU time and measures its wall time and peak memory.</summary>
internal static class ProcessTimer
{
    public static Timing Run(string command, IReadOnlyDictionary<string, string>? environment = null)
    {
        // Flush what earlier commands left dirty so that their write-back is not billed to this one.
        Execute("sync", null, out _);
        var rssFile = Path.GetTempFileName();
        try
        {
            var clock = Stopwatch.StartNew();
            var exit = Execute($"/usr/bin/time -f '%M %U %S' -o {Quote(rssFile)} bash -o pipefail -c {Quote(command)}", environment, out var output);
            var seconds = clock.Elapsed.TotalSeconds;
            if (exit != 0)
            {
                throw new InvalidOperationException($"'{command}' failed with exit code {exit}: {output.Trim()}");
            }

            var fields = File.ReadAllLines(rssFile).Last(l => l.Length > 0).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var kib = long.Parse(fields[0], CultureInfo.InvariantCulture);
            var cpu = double.Parse(fields[1], CultureInfo.InvariantCulture) + double.Parse(fields[2], CultureInfo.InvariantCulture);
            return new Timing(seconds, kib * 1024, cpu);
        }
        finally
        {
            File.Delete(rssFile);
        }
    }

    /// <summary>Runs an untimed command (setup, cleanup, checks); throws when it fails.</summary>
    public static string Check(string command, IReadOnlyDictionary<string, string>? environment = null)
    {
        var exit = Execute($"bash -o pipefail -c {Quote(command)}", environment, out var output);
        if (exit != 0)
        {
            throw new InvalidOperationException($"'{command}' failed with exit code {exit}: {output.Trim()}");
        }

        return output;
    }

    public static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static int Execute(string commandLine, IReadOnlyDictionary<string, string>? environment, out string output)
    {
        var info = new ProcessStartInfo("bash", ["-c", commandLine])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // An empty value removes the variable.
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            if (value.Length == 0)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start bash");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        output = stdout + stderr.GetAwaiter().GetResult();
        return process.ExitCode;
    }
}
