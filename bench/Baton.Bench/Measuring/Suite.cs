namespace Baton.Bench.Measuring;

/// <summary>One measured number of one run.</summary>
internal sealed record Sample(string Kind, string Tool, string Operation, int Run, double Seconds, double CpuSeconds, long PeakRssBytes, long? StoredBytes);

/// <summary>
/// Runs every tool on the same checkpoints, one run after another (each run does every tool, so that noise from a
/// shared machine spreads over all of them): baton push (first, next, unchanged) and pull, restic backup (first,
/// next, unchanged) and restore, tar | zstd -3 -T0 and its extraction, Python zipfile with ZIP_DEFLATED, and cp -r.
/// </summary>
internal sealed class Suite(BenchOptions options, TextWriter log)
{
    private readonly List<Sample> _samples = [];

    public IReadOnlyList<Sample> Samples => _samples;

    public void Run(string kind, string[] checkpoints)
    {
        var scratch = Path.Combine(options.WorkDirectory, "scratch", kind);
        for (var run = 1; run <= options.Runs; run++)
        {
            log.WriteLine($"{kind}: run {run} of {options.Runs}");
            foreach (var tool in options.Tools)
            {
                Reset(scratch);
                switch (tool)
                {
                    case "baton":
                        Baton(kind, run, checkpoints, scratch);
                        break;
                    case "restic":
                        Restic(kind, run, checkpoints, scratch);
                        break;
                    case "tar":
                        TarZstd(kind, run, checkpoints, scratch);
                        break;
                    case "zip":
                        Zip(kind, run, checkpoints, scratch);
                        break;
                    case "cp":
                        Copy(kind, run, checkpoints, scratch);
                        break;
                    default:
                        throw new ArgumentException($"unknown tool '{tool}'");
                }
            }
        }

        Reset(scratch);
    }

    private void Baton(string kind, int run, string[] checkpoints, string scratch)
    {
        var store = Path.Combine(scratch, "store");
        var baton = options.BatonCommand;
        var push = $"{baton} push --store {Q(store)} --run bench --quiet";
        Measure(kind, "baton", "push (first)", run, $"{push} {Q(checkpoints[0])}", stored: store);
        Measure(kind, "baton", "push (next)", run, $"{push} {Q(checkpoints[1])}", stored: store);
        Measure(kind, "baton", "push (unchanged)", run, $"{push} {Q(checkpoints[1])}");
        var target = Path.Combine(scratch, "restored");
        Measure(kind, "baton", "pull", run, $"{baton} pull {Q(target)} --store {Q(store)} --run bench --quiet");
        if (run == 1)
        {
            Verify(checkpoints[1], target);
        }
    }

    private void Restic(string kind, int run, string[] checkpoints, string scratch)
    {
        var repository = Path.Combine(scratch, "repo");
        var environment = new Dictionary<string, string>
        {
            ["RESTIC_REPOSITORY"] = repository,
            ["RESTIC_PASSWORD"] = "bench",
            ["RESTIC_CACHE_DIR"] = Path.Combine(scratch, "cache"),
        };
        ProcessTimer.Check("restic init --quiet", environment);
        Measure(kind, "restic", "backup (first)", run, $"restic backup --quiet {Q(checkpoints[0])}", stored: repository, environment: environment);
        Measure(kind, "restic", "backup (next)", run, $"restic backup --quiet {Q(checkpoints[1])}", stored: repository, environment: environment);
        Measure(kind, "restic", "backup (unchanged)", run, $"restic backup --quiet {Q(checkpoints[1])}", environment: environment);
        var target = Path.Combine(scratch, "restored");
        Measure(kind, "restic", "restore", run, $"restic restore latest --quiet --target {Q(target)}", environment: environment);
        if (run == 1)
        {
            Verify(checkpoints[1], target + checkpoints[1]);
        }
    }

    private void TarZstd(string kind, int run, string[] checkpoints, string scratch)
    {
        var archive = Path.Combine(scratch, "checkpoint.tar.zst");
        var parent = Path.GetDirectoryName(checkpoints[0])!;
        var name = Path.GetFileName(checkpoints[0]);
        Measure(kind, "tar+zstd", "archive (tar | zstd -3 -T0)", run,
            $"tar -C {Q(parent)} -cf - {Q(name)} | zstd -3 -T0 -q -o {Q(archive)}", stored: archive);
        var target = Path.Combine(scratch, "restored");
        Directory.CreateDirectory(target);
        Measure(kind, "tar+zstd", "extract (zstd -d | tar -x)", run, $"zstd -d -q -c {Q(archive)} | tar -C {Q(target)} -xf -");
    }

    private void Zip(string kind, int run, string[] checkpoints, string scratch)
    {
        var archive = Path.Combine(scratch, "checkpoint.zip");
        Measure(kind, "zipfile", "archive (python zipfile, ZIP_DEFLATED)", run,
            $"python3 {Q(options.ZipScript)} {Q(checkpoints[0])} {Q(archive)}", stored: archive);
    }

    private void Copy(string kind, int run, string[] checkpoints, string scratch)
    {
        var target = Path.Combine(scratch, "copy");
        Measure(kind, "cp", "copy (cp -r)", run, $"cp -r {Q(checkpoints[0])} {Q(target)}", stored: target);
    }

    private void Measure(string kind, string tool, string operation, int run, string command, string? stored = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var timing = ProcessTimer.Run(command, environment);
        long? bytes = stored is null ? null : DiskUsage(stored);
        _samples.Add(new Sample(kind, tool, operation, run, timing.Seconds, timing.CpuSeconds, timing.PeakRssBytes, bytes));
        log.WriteLine($"  {tool,-8} {operation,-40} {timing.Seconds,8:F2} s {timing.CpuSeconds,7:F2} s CPU {timing.PeakRssBytes / 1048576.0,6:F0} MiB RSS" +
            (bytes is { } b ? $" {b / 1048576.0,9:F1} MiB stored" : ""));
    }

    // Apparent bytes of a file or of everything under a folder.
    private static long DiskUsage(string path) => File.Exists(path)
        ? new FileInfo(path).Length
        : new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    private static void Verify(string expected, string actual)
    {
        ProcessTimer.Check($"diff -r -q {Q(expected)} {Q(actual)}");
    }

    private static void Reset(string scratch)
    {
        if (Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }

        Directory.CreateDirectory(scratch);
    }

    private static string Q(string text) => ProcessTimer.Quote(text);
}
