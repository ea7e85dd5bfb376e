using System.Globalization;

namespace Baton.Cli.Rendering;

/// <summary>The pieces of a progress line, shared by the live bar and the plain lines.</summary>
internal static class ProgressText
{
    public static double Percent(TransferReading r) =>
        r.Progress.TotalBytes > 0 ? Math.Min(100.0, 100.0 * r.Progress.Bytes / r.Progress.TotalBytes) : 100.0;

    /// <summary>"1.0 MiB / 8.0 MiB  3.2 MiB/s  ETA 3s  files 1/4": the rate and ETA once they mean something, files when counted.</summary>
    public static string Details(TransferReading r)
    {
        var parts = new List<string> { $"{Units.Bytes(r.Progress.Bytes)} / {Units.Bytes(r.Progress.TotalBytes)}" };
        if (r.BytesPerSecond is { } rate)
        {
            parts.Add(Units.Bytes((long)rate) + "/s");
        }

        if (r.Remaining is { } remaining && r.Progress.Bytes < r.Progress.TotalBytes)
        {
            parts.Add("ETA " + Eta(remaining));
        }

        if (r.Progress.TotalFiles > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"files {r.Progress.Files}/{r.Progress.TotalFiles}"));
        }

        return string.Join("  ", parts);
    }

    /// <summary>A whole number of seconds under a minute (an ETA's tenths are noise), the usual duration above.</summary>
    public static string Eta(TimeSpan remaining) => remaining.TotalSeconds < 60
        ? string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(remaining.TotalSeconds):0}s")
        : Units.Duration(remaining);
}
