using System.Diagnostics;
using Baton.Testing;
using Xunit.Abstractions;

namespace Baton.Tests;

/// <summary>
/// A pull's target is the old content or the new snapshot, never a mix: killed at any moment of the switch, failing
/// half-way, as a user who may not write part of it, or as a mount point.
/// </summary>
public sealed class PullTargetTests : IDisposable
{
    // Many top-level entries, so that moving them one by one (the journaled switch) takes a while.
    private const int Files = 600;
    private const int Kills = 6;
    private readonly TempDirectory _temp = new();
    private readonly ITestOutputHelper _output;

    public PullTargetTests(ITestOutputHelper output) => _output = output;

    [Fact(Timeout = 120_000)]
    public async Task A_pull_into_a_directory_that_holds_files_exits_2_naming_it_and_overwrite_and_changes_nothing()
    {
        var (store, source) = await PushAsync(files: 3);
        var target = _temp.Combine("dst");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "step_900.pt"), "a stale newer checkpoint");

        var refused = await Cli.RunAsync("pull", target, "--store", store, "--run", "r");

        Cli.AssertOneLineError(refused, 2, target, "--overwrite");
        Assert.Equal(["step_900.pt"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName));
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--overwrite", "--quiet");
        Assert.Equal(Entries(source), Entries(target));
        TestData.AssertSameTree(source, target);
    }

    [Theory(Timeout = 600_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_pull_killed_at_random_moments_of_the_switch_leaves_the_target_entirely_old_or_entirely_new(bool mountPoint)
    {
        var (store, source) = await PushAsync(Files);
        var target = _temp.Combine("dst");
        var random = new Random(mountPoint ? 11 : 7);
        string[] wrapper = mountPoint ? WrappedCli.AsMountPoint(target) : ["env"];
        string[] pull = ["pull", target, "--store", store, "--run", "r", "--overwrite", "--quiet"];

        // One pull unharmed measures how long it runs once its switch is about to begin. The kills close in on the
        // moment the target changes: a random point between the latest kill that found it old and the earliest that
        // found it changed, so that they land before, during and after the switch.
        WriteOld(target);
        var (early, late) = (TimeSpan.Zero, await PullAsync(wrapper, pull, target, mountPoint, killAfter: null));
        var outcomes = new List<string> { $"window {late.TotalMilliseconds:F0} ms" };
        for (var kill = 0; kill < Kills; kill++)
        {
            WriteOld(target);
            var delay = early + ((late - early) * random.NextDouble());
            await PullAsync(wrapper, pull, target, mountPoint, killAfter: delay);
            var killed = State(target, source);
            (early, late) = killed == "old" ? (delay, late) : (early, delay);
            outcomes.Add($"killed after {delay.TotalMilliseconds:F0} ms: {killed}");

            // The next pull finishes or undoes what the killed one left before it looks at the target (and then
            // refuses it without --overwrite: the recovery alone).
            var recovered = await Cli.RunAsync("pull", target, "--store", store, "--run", "r");
            Assert.True(recovered.ExitCode == 2, recovered.ToString());
            var state = State(target, source);
            Assert.True(state is "old" or "new", $"kill {kill}: the target is {state}; before recovery: {string.Join("; ", outcomes)}");
            Assert.False(File.Exists(Path.Combine(target, ".baton-restore-journal")));
            outcomes[^1] += $" -> {state}";
        }

        _output.WriteLine(string.Join("\n", outcomes));
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--overwrite", "--quiet");
        Assert.Equal(Entries(source), Entries(target));
        TestData.AssertSameTree(source, target);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target, ".baton-*"));
        Assert.Equal(["dst", "src", "store"], Directory.EnumerateFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory(Timeout = 300_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_pull_by_a_user_who_may_not_write_a_subdirectory_of_the_target_leaves_it_entirely_old_or_entirely_new(bool mountPoint)
    {
        var source = _temp.Combine("src");
        for (var i = 0; i < 20; i++)
        {
            TestData.WriteRandomFile(Path.Combine(source, $"step_{i:D3}.pt"), 10_000, i);
            TestData.WriteRandomFile(Path.Combine(source, "sub", $"part_{i:D3}.bin"), 10_000, 100 + i);
        }

        var store = _temp.Combine("store");
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--quiet");
        var target = _temp.Combine("dst");
        WriteOld(target);
        for (var i = 0; i < 20; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(target, "sub", $"part_{i:D3}.bin"), "old");
        }

        WrappedCli.GiveToNobody(_temp.Path);
        File.SetUnixFileMode(Path.Combine(target, "sub"), UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        string[] wrapper = mountPoint ? [.. WrappedCli.AsMountPoint(target), .. WrappedCli.AsNobody()] : WrappedCli.AsNobody();

        var pulled = await WrappedCli.RunAsync(wrapper, ["pull", target, "--store", store, "--run", "r", "--overwrite", "--quiet"]);

        var state = State(target, source);
        Assert.True(pulled.ExitCode == 0 ? state == "new" : state == "old", $"exit {pulled.ExitCode}, the target is {state}: {pulled}");
        if (pulled.ExitCode != 0)
        {
            Assert.Single(pulled.ErrorLines);
            Assert.Contains(target, pulled.StdErr, StringComparison.Ordinal);
        }
    }

    // Runs a pull; once its switch is about to begin, waits killAfter and SIGKILLs it (or, without, lets it finish).
    // Returns the time from that moment to the end.
    private async Task<TimeSpan> PullAsync(string[] wrapper, string[] args, string target, bool mountPoint, TimeSpan? killAfter)
    {
        using var process = WrappedCli.Start(wrapper, args);
        process.StandardInput.Close();
        var output = process.StandardError.ReadToEndAsync();
        var watch = Stopwatch.StartNew();
        while (!process.HasExited && !SwitchStarted(target, mountPoint) && watch.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(1);
        }

        watch.Restart();
        if (killAfter is { } delay)
        {
            await Task.Delay(delay);
            Signals.Send(process.Id, Signals.SigKill);
        }

        await process.WaitForExitAsync();
        var elapsed = watch.Elapsed;
        var errors = await output;
        Assert.True(killAfter is not null || process.ExitCode == 0, $"exit {process.ExitCode}: {errors}");
        return elapsed;
    }

    private async Task<(string Store, string Source)> PushAsync(int files)
    {
        var source = _temp.Combine("src");
        for (var i = 0; i < files; i++)
        {
            TestData.WriteRandomFile(Path.Combine(source, $"step_{i:D4}.pt"), 1500, i);
        }

        TestData.WriteRandomFile(Path.Combine(source, "sub", "deep.bin"), 100_000, -1);
        var store = _temp.Combine("store");
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--quiet");
        return (store, source);
    }

    // The old content: every name of the snapshot with other bytes, and files of its own.
    private static void WriteOld(string target)
    {
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }

        Directory.CreateDirectory(Path.Combine(target, "sub"));
        foreach (var i in Enumerable.Range(0, Files))
        {
            File.WriteAllText(Path.Combine(target, $"step_{i:D4}.pt"), "old");
        }

        File.WriteAllText(Path.Combine(target, "step_9999.pt"), "a stale newer checkpoint");
        File.WriteAllText(Path.Combine(target, "sub", "deep.bin"), "old");
    }

    private bool SwitchStarted(string target, bool mountPoint) => mountPoint
        ? File.Exists(Path.Combine(target, ".baton-restore-journal"))
        : Directory.EnumerateDirectories(_temp.Path, ".dst.baton-restore-*").Any(s => Directory.EnumerateFileSystemEntries(s).Count() > Files);

    // "old" when the target is exactly what WriteOld wrote, "new" when exactly the snapshot, else what is mixed.
    private static string State(string target, string source)
    {
        var entries = Entries(target);
        if (entries.Contains("step_9999.pt"))
        {
            var notOld = entries.Where(e => !Directory.Exists(Path.Combine(target, e)) && File.ReadAllText(Path.Combine(target, e)) != "old" && e != "step_9999.pt").ToList();
            return notOld.Count == 0 ? "old" : $"mixed ({notOld.Count} new files beside old ones, e.g. {notOld[0]})";
        }

        var expected = Entries(source);
        if (!entries.SequenceEqual(expected))
        {
            return $"mixed ({entries.Count} entries, {expected.Count} expected)";
        }

        var differing = entries.Where(e => File.Exists(Path.Combine(source, e)) && !TestData.FilesEqual(Path.Combine(source, e), Path.Combine(target, e))).ToList();
        return differing.Count == 0 ? "new" : $"mixed ({differing.Count} files differ, e.g. {differing[0]})";
    }

    private static List<string> Entries(string root) => Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
        .Select(e => Path.GetRelativePath(root, e)).Where(e => !e.StartsWith(".baton-", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal).ToList();

    public void Dispose() => _temp.Dispose();
}
