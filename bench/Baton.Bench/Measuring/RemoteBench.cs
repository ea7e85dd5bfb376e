using System.Globalization;
using Baton.Bench.Generation;
using Baton.Bench.Reporting;

namespace Baton.Bench.Measuring;

/// <summary>One timed command of the remote benchmark, with the load average just before and after it.</summary>
internal sealed record RemoteSample(string Operation, int Run, double Seconds, double CpuSeconds, long PeakRssBytes, string LoadBefore, string LoadAfter);

/// <summary>
/// Pushes and pulls to remote stores (<c>bench/run remote</c>): starts s3rver on a free loopback port, points an
/// rclone remote at the same server through <c>RCLONE_CONFIG_*</c> variables, and times, interleaved in each run,
/// baton push to S3 (the default codec choice and <c>--compression fast</c> and <c>small</c>, so the codec's share
/// shows), <c>rclone copy</c> of the same folder up, a push through the rclone store, baton pull (of the default and of
/// the fast push), <c>rclone copy</c>
/// down, the same plus <c>sync</c> (what a durable copy costs) and a pull through the rclone store. Every push goes
/// to a fresh prefix, so nothing is deduplicated against an earlier run.
/// </summary>
internal static class RemoteBench
{
    public const string Usage = """
        usage: baton-bench remote --baton COMMAND [--size 0.8GiB] [--runs 2] [--seed 42] [--work DIR] [--out DIR] [--label TEXT]
          --baton   command that runs baton (bench/run passes the build it made)
          --label   what build or settings this is, for the table and the JSON file
        """;

    private const string Bucket = "bench";
    private const string Remote = "benchs3";
    private const string CopyUp = "rclone copy up";
    private const string CopyDown = "rclone copy down";
    private const string CopyDownSync = "rclone copy down + sync";

    // The measured operations with the baseline each is compared with (null: a baseline itself).
    private static readonly (string Operation, string? Baseline, double? Goal)[] Operations =
    [
        ("baton push to S3", CopyUp, 1.5),
        (CopyUp, null, null),
        ("baton push to S3, --compression fast", CopyUp, null),
        ("baton push to S3, --compression small", CopyUp, null),
        ("baton push to rclone store", CopyUp, null),
        ("baton pull from S3", CopyDown, 1.0),
        ("baton pull from S3, --compression fast", CopyDown, null),
        (CopyDown, null, null),
        (CopyDownSync, null, null),
        ("baton pull from rclone store", CopyDown, null),
    ];

    public static async Task<int> RunAsync(string[] args, string root, TextWriter log)
    {
        var size = (long)(0.8 * (1L << 30));
        var runs = 2;
        ulong seed = 42;
        var work = Path.Combine(Path.GetTempPath(), "baton-bench");
        var output = Path.Combine(root, "bench", "results");
        string? baton = null;
        var label = "";
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            if (value is null)
            {
                await Console.Error.WriteLineAsync($"baton-bench remote: {args[i]} needs a value\n{Usage}");
                return 2;
            }

            switch (args[i])
            {
                case "--size": size = BenchOptions.ParseSize(value); break;
                case "--runs": runs = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seed": seed = ulong.Parse(value, CultureInfo.InvariantCulture); break;
                case "--work": work = Path.GetFullPath(value); break;
                case "--out": output = Path.GetFullPath(value); break;
                case "--baton": baton = value; break;
                case "--label": label = value; break;
                default:
                    await Console.Error.WriteLineAsync($"baton-bench remote: unknown option '{args[i]}'\n{Usage}");
                    return 2;
            }
        }

        if (baton is null)
        {
            await Console.Error.WriteLineAsync($"baton-bench remote: --baton is required\n{Usage}");
            return 2;
        }

        var s3rver = Path.Combine(root, ".build", "node", "node_modules", ".bin", "s3rver");
        if (!File.Exists(s3rver))
        {
            await Console.Error.WriteLineAsync($"baton-bench remote: s3rver is not installed at {s3rver}: run eng/install-test-deps.sh");
            return 1;
        }

        var checkpoint = CheckpointGenerator.Generate(Path.Combine(work, "data"), size, seed, log).Float32[0];
        var inputBytes = new DirectoryInfo(checkpoint).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        var scratch = Path.Combine(work, "remote");
        Reset(scratch);
        var serverData = Path.Combine(scratch, "s3rver");
        Directory.CreateDirectory(serverData);
        var port = GroupBench.FreePort();
        using var server = GroupBench.StartS3rver(root, port, serverData);
        var samples = new List<RemoteSample>();
        try
        {
            await GroupBench.WaitForPortAsync(port);
            var environment = Environment(port, scratch);
            var rcloneVersion = ProcessTimer.Check("rclone version", environment).Split('\n')[0].Trim();
            await log.WriteLineAsync($"s3rver on 127.0.0.1:{port}; {rcloneVersion}; baton: {baton}; load {GroupBench.Load()}");
            for (var run = 1; run <= runs; run++)
            {
                await log.WriteLineAsync($"run {run} of {runs}");
                RunOnce(run, baton, checkpoint, scratch, environment, samples, log);
            }
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Reset(scratch);
        }

        var rows = Summarize(samples, inputBytes);
        var machine = Machine.Describe();
        var title = $"float32 weights + Adam state: {inputBytes / 1073741824.0:F2} GiB in {Directory.GetFiles(checkpoint).Length} files; " +
            $"{(label.Length > 0 ? label + "; " : "")}{runs} runs, medians";
        Console.WriteLine();
        Console.WriteLine($"machine: {machine.Cpu}, {machine.Cores} cores, {machine.MemoryGiB:F0} GiB; {machine.Runtime}");
        Console.WriteLine(title);
        Console.WriteLine(Table(rows));
        var stamp = TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var document = new { Created = TimeProvider.System.GetUtcNow(), Machine = machine, Options = new { size, runs, seed, baton, label }, Input = title, Rows = rows, Samples = samples };
        var path = Path.Combine(output, $"remote-{stamp}.json");
        Report.WriteJson(path, document);
        Console.WriteLine($"results: {path}");
        return 0;
    }

    private static void RunOnce(int run, string baton, string checkpoint, string scratch, IReadOnlyDictionary<string, string> environment, List<RemoteSample> samples, TextWriter log)
    {
        var s3 = $"s3://{Bucket}/run{run}";
        var rcloneStore = $"rclone:{Remote}:{Bucket}/run{run}/rclone-store";
        var copied = $"{Remote}:{Bucket}/run{run}/rclone-copy";
        var target = Path.Combine(scratch, "restored");
        void Measure(string operation, string command)
        {
            var before = GroupBench.Load();
            var timing = ProcessTimer.Run(command, environment);
            var after = GroupBench.Load();
            samples.Add(new RemoteSample(operation, run, timing.Seconds, timing.CpuSeconds, timing.PeakRssBytes, before, after));
            log.WriteLine($"  {operation,-40} {timing.Seconds,8:F2} s {timing.CpuSeconds,7:F2} s CPU {timing.PeakRssBytes / 1048576.0,6:F0} MiB RSS  load {before} -> {after}");
        }

        void Pulled(string operation, string command, string restored)
        {
            Reset(target);
            Measure(operation, command);
            if (run == 1)
            {
                ProcessTimer.Check($"diff -r -q {Q(checkpoint)} {Q(restored)}");
            }
        }

        var push = $"{baton} push --run bench --quiet {Q(checkpoint)} --store";
        Measure(Operations[0].Operation, $"{push} {Q(s3 + "/auto")}");
        Measure(CopyUp, $"rclone copy {Q(checkpoint)} {Q(copied)}");
        Measure(Operations[2].Operation, $"{push} {Q(s3 + "/fast")} --compression fast");
        Measure(Operations[3].Operation, $"{push} {Q(s3 + "/small")} --compression small");
        Measure(Operations[4].Operation, $"{push} {Q(rcloneStore)}");
        Pulled(Operations[5].Operation, $"{baton} pull {Q(target)} --store {Q(s3 + "/auto")} --run bench --quiet", target);
        Pulled(Operations[6].Operation, $"{baton} pull {Q(target)} --store {Q(s3 + "/fast")} --run bench --quiet", target);
        Pulled(CopyDown, $"rclone copy {Q(copied)} {Q(target)}", target);
        Pulled(CopyDownSync, $"rclone copy {Q(copied)} {Q(target)} && sync", target);
        Pulled(Operations[9].Operation, $"{baton} pull {Q(target)} --store {Q(rcloneStore)} --run bench --quiet", target);
        Reset(target);

        // Keep the server's disk use to one run's worth.
        ProcessTimer.Check($"rclone purge {Q($"{Remote}:{Bucket}/run{run}")}", environment);
    }

    // Credentials and endpoint for baton's S3 store and for the rclone remote, and nothing read from the user's own
    // AWS or rclone configuration. An empty value removes the variable: rclone 1.60 refuses an AWS_CA_BUNDLE on a
    // plain-HTTP endpoint.
    private static Dictionary<string, string> Environment(int port, string scratch) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = "S3RVER",
        ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
        ["AWS_SESSION_TOKEN"] = "",
        ["AWS_PROFILE"] = "",
        ["AWS_CA_BUNDLE"] = "",
        ["AWS_REGION"] = "us-east-1",
        ["AWS_ENDPOINT_URL_S3"] = $"http://127.0.0.1:{port}",
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(scratch, "no-credentials"),
        ["AWS_CONFIG_FILE"] = Path.Combine(scratch, "no-config"),
        ["RCLONE_CONFIG"] = Path.Combine(scratch, "no-rclone.conf"),
        [$"RCLONE_CONFIG_{Remote.ToUpperInvariant()}_TYPE"] = "s3",
        [$"RCLONE_CONFIG_{Remote.ToUpperInvariant()}_PROVIDER"] = "Other",
        [$"RCLONE_CONFIG_{Remote.ToUpperInvariant()}_ENDPOINT"] = $"http://127.0.0.1:{port}",
        [$"RCLONE_CONFIG_{Remote.ToUpperInvariant()}_ACCESS_KEY_ID"] = "S3RVER",
        [$"RCLONE_CONFIG_{Remote.ToUpperInvariant()}_SECRET_ACCESS_KEY"] = "S3RVER",
        [$"RCLONE_CONFIG_{Remote.ToUpperInvariant()}_REGION"] = "us-east-1",
    };

    /// <summary>One operation over the runs: medians, and the ratio against its baseline computed run by run.</summary>
    internal sealed record RemoteRow(
        string Operation, double MedianSeconds, double[] Seconds, double MedianCpuSeconds, long PeakRssBytes, double MiBPerSecond,
        string? Baseline, double? SpeedRatio, double? CpuRatio, double? SpeedRatioWithSync, double? Goal, string Loads);

    private static List<RemoteRow> Summarize(List<RemoteSample> samples, long inputBytes)
    {
        var rows = new List<RemoteRow>();
        foreach (var (operation, baseline, goal) in Operations)
        {
            var mine = samples.Where(s => s.Operation == operation).OrderBy(s => s.Run).ToList();
            if (mine.Count == 0)
            {
                continue;
            }

            double? Ratio(string? other, Func<RemoteSample, double> measure)
            {
                if (other is null)
                {
                    return null;
                }

                var ratios = mine.Select(s => samples.FirstOrDefault(b => b.Operation == other && b.Run == s.Run) is { } b ? measure(b) / measure(s) : double.NaN)
                    .Where(r => !double.IsNaN(r)).ToArray();
                return ratios.Length == 0 ? null : Median(ratios);
            }

            var median = Median(mine.Select(s => s.Seconds).ToArray());
            rows.Add(new RemoteRow(operation, median, mine.Select(s => s.Seconds).ToArray(), Median(mine.Select(s => s.CpuSeconds).ToArray()),
                mine.Max(s => s.PeakRssBytes), inputBytes / 1048576.0 / median, baseline, Ratio(baseline, s => s.Seconds), Ratio(baseline, s => s.CpuSeconds),
                baseline == CopyDown ? Ratio(CopyDownSync, s => s.Seconds) : null, goal,
                string.Join("; ", mine.Select(s => s.LoadBefore.Split(' ')[0] + " to " + s.LoadAfter.Split(' ')[0]))));
        }

        return rows;
    }

    private static string Table(List<RemoteRow> rows)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("| operation | median s | MiB/s | runs (s) | CPU s | peak RSS MiB | baseline | speed vs baseline (wall) | by CPU | vs copy + sync | load (1 min) |");
        text.AppendLine("|---|---:|---:|---|---:|---:|---|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            var runs = string.Join(" ", row.Seconds.Select(x => x.ToString("F1", CultureInfo.InvariantCulture)));
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Operation} | {row.MedianSeconds:F1} | {row.MiBPerSecond:F0} | {runs} | {row.MedianCpuSeconds:F1} | {row.PeakRssBytes / 1048576.0:F0} | {row.Baseline ?? "(baseline)"} | {X(row.SpeedRatio)} | {X(row.CpuRatio)} | {X(row.SpeedRatioWithSync)} | {row.Loads} |");
        }

        text.AppendLine();
        foreach (var row in rows.Where(r => r.Goal is not null))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"- {row.Operation} vs {row.Baseline}: {X(row.SpeedRatio)} (target >= {row.Goal:F1}x) {(row.SpeedRatio >= row.Goal ? "met" : "NOT met")}");
        }

        foreach (var row in rows.Where(r => r.Operation.StartsWith("baton", StringComparison.Ordinal)))
        {
            var mib = row.PeakRssBytes / 1048576.0;
            text.AppendLine(CultureInfo.InvariantCulture, $"- peak RSS, {row.Operation}: {mib:F0} MiB (target <= 256 MiB) {(mib <= 256 ? "met" : "NOT met")}");
        }

        return text.ToString();
    }

    private static string X(double? ratio) => ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) + "x" : "";

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static void Reset(string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
    }

    private static string Q(string text) => ProcessTimer.Quote(text);
}
