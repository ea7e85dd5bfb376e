using System.Globalization;
using System.Text;
using System.Text.Json;
using Baton.Bench.Measuring;

namespace Baton.Bench.Reporting;

/// <summary>The median of one operation over the runs.</summary>
internal sealed record Row(string Kind, string Tool, string Operation, double MedianSeconds, double[] Seconds, double MedianCpuSeconds, long PeakRssBytes, long? StoredBytes, long InputBytes)
{
    public double MiBPerSecond => InputBytes / 1048576.0 / MedianSeconds;
}

/// <summary>One target of the performance issue, checked against the rows; CpuValue is the same ratio from CPU times.</summary>
internal sealed record TargetCheck(string Kind, string Name, double Value, string Unit, string Goal, bool Met, double? CpuValue = null);

/// <summary>Turns samples into the printed table, the ratios against each peer and the JSON file.</summary>
internal static class Report
{
    public static List<Row> Rows(IReadOnlyList<Sample> samples, IReadOnlyDictionary<string, long> inputBytes) =>
        samples.GroupBy(s => (s.Kind, s.Tool, s.Operation))
            .Select(g =>
            {
                var seconds = g.Select(s => s.Seconds).ToArray();
                return new Row(g.Key.Kind, g.Key.Tool, g.Key.Operation, Median(seconds), seconds, Median(g.Select(s => s.CpuSeconds).ToArray()),
                    g.Max(s => s.PeakRssBytes), g.Select(s => s.StoredBytes).LastOrDefault(b => b is not null), inputBytes[g.Key.Kind]);
            })
            .ToList();

    public static List<TargetCheck> Targets(List<Row> rows)
    {
        var checks = new List<TargetCheck>();
        foreach (var kind in rows.Select(r => r.Kind).Distinct())
        {
            Row? Find(string tool, string operation) => rows.FirstOrDefault(r => r.Kind == kind && r.Tool == tool && r.Operation.StartsWith(operation, StringComparison.Ordinal));
            var push = Find("baton", "push (first)");
            var pull = Find("baton", "pull");
            if (push is null)
            {
                continue;
            }

            if (Find("restic", "backup (first)") is { } backup)
            {
                var x = backup.MedianSeconds / push.MedianSeconds;
                checks.Add(new(kind, "push speed vs restic backup", x, "x", ">= 3x", x >= 3, backup.MedianCpuSeconds / push.MedianCpuSeconds));
            }

            if (Find("zipfile", "archive") is { } zip)
            {
                var x = zip.MedianSeconds / push.MedianSeconds;
                checks.Add(new(kind, "push speed vs python zipfile", x, "x", ">= 20x", x >= 20, zip.MedianCpuSeconds / push.MedianCpuSeconds));
            }

            if (Find("cp", "copy") is { } copy)
            {
                var x = push.MedianSeconds / copy.MedianSeconds;
                checks.Add(new(kind, "push time / cp -r time", x, "x", "<= 1.5x", x <= 1.5, push.MedianCpuSeconds / copy.MedianCpuSeconds));
            }

            if (Find("tar+zstd", "archive") is { StoredBytes: { } zstdBytes } && push.StoredBytes is { } stored)
            {
                var x = (double)stored / zstdBytes;
                var goal = kind == "bf16" ? 0.88 : 0.92;
                checks.Add(new(kind, "stored size / tar|zstd -3 size", x, "x", $"<= {goal}x", x <= goal));
            }

            if (pull is not null && Find("restic", "restore") is { } restore)
            {
                var x = restore.MedianSeconds / pull.MedianSeconds;
                checks.Add(new(kind, "pull speed vs restic restore", x, "x", ">= 2x", x >= 2, restore.MedianCpuSeconds / pull.MedianCpuSeconds));
            }

            if (Find("baton", "push (unchanged)") is { } unchanged)
            {
                var x = unchanged.MedianSeconds / push.MedianSeconds;
                checks.Add(new(kind, "unchanged re-push / first push", x * 100, "%", "<= 5%", x <= 0.05, unchanged.MedianCpuSeconds / push.MedianCpuSeconds * 100));
            }

            var rss = rows.Where(r => r.Kind == kind && r.Tool == "baton").Max(r => r.PeakRssBytes) / 1048576.0;
            checks.Add(new(kind, "baton peak RSS", rss, "MiB", "<= 256 MiB", rss <= 256));
        }

        return checks;
    }

    public static string Table(List<Row> rows, List<TargetCheck> checks, IReadOnlyDictionary<string, string> kindTitles)
    {
        var text = new StringBuilder();
        foreach (var kind in rows.Select(r => r.Kind).Distinct())
        {
            text.AppendLine();
            text.AppendLine(kindTitles[kind]);
            text.AppendLine("| tool | operation | median s | MiB/s | runs (s) | CPU s | peak RSS MiB | stored MiB | stored/raw |");
            text.AppendLine("|---|---|---:|---:|---|---:|---:|---:|---:|");
            foreach (var row in rows.Where(r => r.Kind == kind))
            {
                var stored = row.StoredBytes is { } b ? (b / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) : "";
                var ratio = row.StoredBytes is { } s ? ((double)s / row.InputBytes).ToString("F3", CultureInfo.InvariantCulture) : "";
                var runs = string.Join(" ", row.Seconds.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)));
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {row.Tool} | {row.Operation} | {row.MedianSeconds:F2} | {row.MiBPerSecond:F0} | {runs} | {row.MedianCpuSeconds:F2} | {row.PeakRssBytes / 1048576.0:F0} | {stored} | {ratio} |");
            }

            text.AppendLine();
            foreach (var check in checks.Where(c => c.Kind == kind))
            {
                var cpu = check.CpuValue is { } c ? $"; by CPU time {c:F2}{(check.Unit == "x" ? "x" : " " + check.Unit)}" : "";
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"- {check.Name}: {check.Value:F2}{(check.Unit == "x" ? "x" : " " + check.Unit)} (target {check.Goal}) {(check.Met ? "met" : "NOT met")}{cpu}");
            }
        }

        return text.ToString();
    }

    public static void WriteJson(string path, object document)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
