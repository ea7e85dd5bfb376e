using System.Globalization;
using System.Net;
using System.Text;
using Baton.Cli.Commands;
using Baton.Journal;
using Baton.Repositories;

namespace Baton.Cli.Rendering;

/// <summary>
/// One self-contained HTML page (no network assets, no script): an SVG timeline of legs (bars), checkpoints (ticks)
/// and preemptions (marks), the bytes pushed and push time per checkpoint, the status table and the interval advice.
/// </summary>
internal static class HtmlReport
{
    private const int Width = 1000;
    private const int Left = 60;
    private const int Right = 20;

    public static string Render(StatusView status, IReadOnlyList<Snapshot> snapshots, RunAnalysis analysis, DateTimeOffset now)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<title>Baton report: ").Append(E(status.Run)).Append("</title><style>")
            .Append("body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}")
            .Append("table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}")
            .Append(".leg.ended{fill:#4a90d9}.leg.running{fill:#5cb85c}.leg.lost{fill:#d9534f}.checkpoint{stroke:#222;stroke-width:1.5}")
            .Append(".preemption{fill:#d9534f}.bytes{fill:#8e6bbf}.seconds{fill:#f0ad4e}.axis{font-size:11px;fill:#555}.grid{stroke:#999;stroke-width:1}")
            .Append("</style></head><body>\n");
        html.Append("<h1>Run <code>").Append(E(status.Run)).Append("</code></h1>\n<p id=\"summary\">")
            .Append(status.Snapshots).Append(" snapshots; newest committed step ")
            .Append(status.NewestStep?.ToString(CultureInfo.InvariantCulture) ?? "-");
        if (status.LastCheckpointAgeSeconds is { } age)
        {
            html.Append("; last durable checkpoint ").Append(E(Units.Duration(TimeSpan.FromSeconds(age)))).Append(" before this report");
        }

        html.Append(".</p>\n");
        Timeline(html, status, snapshots, now);
        PerCheckpoint(html, snapshots);
        LegTable(html, status, analysis);
        Advice(html, analysis);
        html.Append("<p class=\"axis\">Made by baton ").Append(E(BatonApp.Version)).Append(" at ")
            .Append(now.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append(".</p>\n</body></html>\n");
        return html.ToString();
    }

    private static void Timeline(StringBuilder html, StatusView status, IReadOnlyList<Snapshot> snapshots, DateTimeOffset now)
    {
        var times = status.Legs.SelectMany(l => new[] { l.Started, l.Ended ?? l.Updated }).Concat(snapshots.Select(s => s.Manifest.Created)).ToList();
        html.Append("<h2>Timeline</h2>\n");
        if (times.Count == 0)
        {
            html.Append("<p>Nothing to draw yet.</p>\n");
            return;
        }

        var start = times.Min();
        var end = times.Max() > start ? times.Max() : start.AddSeconds(1);
        double X(DateTimeOffset t) => Left + ((Width - Left - Right) * (t - start).TotalSeconds / (end - start).TotalSeconds);
        var height = 84 + (status.Legs.Count * 26);
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\">\n");
        foreach (var leg in status.Legs)
        {
            var y = 10 + ((leg.Number - 1) * 26);
            var x0 = X(leg.Started);
            var x1 = Math.Max(x0 + 2, X(leg.Ended ?? leg.Updated));
            html.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"4\" y=\"{y + 14}\">leg {leg.Number}</text>")
                .Append(CultureInfo.InvariantCulture, $"<rect class=\"leg {E(leg.State)}\" x=\"{x0:F1}\" y=\"{y}\" width=\"{x1 - x0:F1}\" height=\"18\"><title>leg {leg.Number} on {E(leg.Host)}: {E(leg.EndReason ?? leg.State)}</title></rect>\n");
            if (leg.State == "lost")
            {
                html.Append(CultureInfo.InvariantCulture, $"<path class=\"preemption\" d=\"M{x1 - 6:F1},{y - 2} l12,0 l-6,10 z\"><title>leg {leg.Number} lost (machine gone)</title></path>\n");
            }
        }

        var tickTop = 10 + (status.Legs.Count * 26);
        foreach (var snapshot in snapshots)
        {
            var x = X(snapshot.Manifest.Created);
            html.Append(CultureInfo.InvariantCulture, $"<line class=\"checkpoint\" x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{tickTop}\" y2=\"{tickTop + 14}\"><title>step {snapshot.Manifest.Step?.ToString(CultureInfo.InvariantCulture) ?? "-"} ({snapshot.Id})</title></line>\n");
        }

        // Time axis: elapsed time at evenly spaced ticks (one row), the wall-clock ends below it (another row).
        var axisY = tickTop + 22;
        html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{axisY}\" y2=\"{axisY}\"/>\n");
        const int Ticks = 5;
        for (var i = 0; i <= Ticks; i++)
        {
            var at = start + ((end - start) * i / Ticks);
            var x = X(at);
            var anchor = i == 0 ? "start" : i == Ticks ? "end" : "middle";
            html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{axisY}\" y2=\"{axisY + 4}\"/>")
                .Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{x:F1}\" y=\"{axisY + 16}\" text-anchor=\"{anchor}\">+{E(Units.Duration(at - start))}</text>\n");
        }

        html.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left}\" y=\"{height - 8}\">{E(Stamp(start))}</text>")
            .Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Width - Right}\" y=\"{height - 8}\" text-anchor=\"end\">{E(Stamp(end))}</text>\n</svg>\n")
            .Append("<p class=\"axis\">Time axis: elapsed since the first event (UTC at the ends). Bars: legs (blue ended, green running, red lost); triangles: preemptions; ticks: durable checkpoints.</p>\n");
    }

    private static void PerCheckpoint(StringBuilder html, IReadOnlyList<Snapshot> snapshots)
    {
        html.Append("<h2>Per checkpoint</h2>\n");
        if (snapshots.Count == 0)
        {
            html.Append("<p>No checkpoints yet.</p>\n");
            return;
        }

        var maxBytes = Math.Max(1, snapshots.Max(s => s.Manifest.Stats.BytesStored));
        var maxSeconds = Math.Max(0.001, snapshots.Max(s => s.Manifest.Stats.Seconds));
        var bar = Math.Max(2.0, Math.Min(24.0, (Width - Left - Right) / (double)snapshots.Count - 2));
        // Rows, top to bottom: the bytes title, bytes bars (growing up), push-time bars (growing down), its title, the step axis.
        const int Top = 24;
        const int Half = 80;
        const int Height = Top + Half + 8 + Half + 56;
        var middle = Top + Half;
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"pushes\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\">\n");
        // Step labels every few bars, so that they never overlap (about 48 px each).
        var labelEvery = Math.Max(1, (int)Math.Ceiling(48 / (bar + 2)));
        for (var i = 0; i < snapshots.Count; i++)
        {
            var stats = snapshots[i].Manifest.Stats;
            var x = Left + (i * (bar + 2));
            var hb = Half * stats.BytesStored / (double)maxBytes;
            var hs = Half * stats.Seconds / maxSeconds;
            var step = snapshots[i].Manifest.Step?.ToString(CultureInfo.InvariantCulture) ?? "-";
            html.Append(CultureInfo.InvariantCulture, $"<rect class=\"bytes\" x=\"{x:F1}\" y=\"{middle - hb:F1}\" width=\"{bar:F1}\" height=\"{hb:F1}\"><title>step {step}: {E(Units.Bytes(stats.BytesStored))} stored</title></rect>")
                .Append(CultureInfo.InvariantCulture, $"<rect class=\"seconds\" x=\"{x:F1}\" y=\"{middle + 8}\" width=\"{bar:F1}\" height=\"{hs:F1}\"><title>step {step}: pushed in {stats.Seconds:F2}s</title></rect>\n");
            if (i % labelEvery == 0)
            {
                html.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{x + (bar / 2):F1}\" y=\"{Height - 22}\" text-anchor=\"middle\">{E(step)}</text>\n");
            }
        }

        html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{middle + 4}\" y2=\"{middle + 4}\"/>\n")
            .Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left}\" y=\"14\">bytes stored per checkpoint (tallest {E(Units.Bytes(maxBytes))})</text>")
            .Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left}\" y=\"{Height - 40}\">push time per checkpoint, in the background (longest {maxSeconds:F2}s)</text>")
            .Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left}\" y=\"{Height - 6}\">step of each checkpoint (one bar per snapshot, oldest first)</text>\n</svg>\n");
    }

    private static void LegTable(StringBuilder html, StatusView status, RunAnalysis analysis)
    {
        html.Append("<h2>Legs</h2>\n<table id=\"legs\"><thead><tr><th>leg</th><th>host</th><th>started</th><th>lasted</th><th>end</th><th>steps</th><th>pushed</th><th>restarts</th><th>work lost</th></tr></thead><tbody>\n");
        foreach (var leg in status.Legs)
        {
            var lost = analysis.Losses.FirstOrDefault(l => l.Leg == leg.Id);
            html.Append("<tr class=\"leg-row\"><td>").Append(leg.Number).Append("</td><td>").Append(E(leg.NodeRank is { } node ? $"{leg.Host} (node {node}/{leg.Nodes}, {leg.GroupId})" : leg.Host)).Append("</td><td>").Append(E(Stamp(leg.Started)))
                .Append("</td><td>").Append(E(Units.Duration((leg.Ended ?? leg.Updated) - leg.Started))).Append("</td><td>").Append(E(leg.State == "ended" ? leg.EndReason ?? "ended" : leg.State))
                .Append("</td><td>").Append(E($"{Step(leg.RestoredStep)} → {Step(leg.NewestStep)}")).Append("</td><td>").Append(leg.CheckpointsPushed)
                .Append("</td><td>").Append(leg.Restarts).Append("</td><td>").Append(lost is null ? "-" : E(StatusCommand.LostText(lost))).Append("</td></tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static void Advice(StringBuilder html, RunAnalysis analysis)
    {
        html.Append("<h2>Checkpoint interval</h2>\n<table id=\"advice\"><tbody>\n");
        Row(html, "checkpoint cost to training (mean save)", analysis.SaveSeconds is { } c ? $"{c:F2}s" : "unknown");
        Row(html, "push time (mean, in the background)", analysis.PushSeconds is { } p ? $"{p:F2}s" : "-");
        Row(html, "mean time between failures", Span(analysis.MeanTimeBetweenFailures));
        Row(html, "interval used (median)", Span(analysis.ActualInterval));
        Row(html, "Young's optimum √(2·C·M)", Optimum(analysis, analysis.YoungInterval));
        Row(html, "Daly's optimum", Optimum(analysis, analysis.DalyInterval));
        Row(html, "stored / logical bytes", $"{Units.Bytes(analysis.StoredBytes)} / {Units.Bytes(analysis.LogicalBytes)}");
        Row(html, "dedup ratio", analysis.DedupRatio is { } d ? $"{d:F2}×" : "-");
        Row(html, "compression ratio", analysis.CompressionRatio is { } r ? $"{r:F2}×" : "-");
        html.Append("</tbody></table>\n");
    }

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>\n");

    // An optimum needs both a failure rate and a measured checkpoint cost; say which one is missing.
    private static string Optimum(RunAnalysis analysis, TimeSpan? optimum) => optimum is { } o ? Units.Duration(o)
        : analysis.MeanTimeBetweenFailures is null ? "- (no failure seen)" : "unknown (checkpoint cost not measured)";

    private static string Span(TimeSpan? span) => span is { } s ? Units.Duration(s) : "-";

    private static string Step(long? step) => step?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
