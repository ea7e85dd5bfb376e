using System.Globalization;
using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// Real trainers behind real wrappers: a shell script that runs Debian's /usr/bin/python3 without <c>exec</c>, a
/// trainer still importing when a signal comes, a trainer that outlives its supervisor, a trainer killed by the same
/// signal as its supervisor. The Python trainer is Trainers/tree.py.
/// </summary>
public sealed partial class ProcessTreeTests : IDisposable
{
    private const string Pattern = "pattern:ckpt-{step}.bin";
    private readonly TempDirectory _temp = new();

    private string Store => _temp.Combine("store");

    private string Dir => _temp.Combine("ckpt");

    [Fact(Timeout = 180_000)]
    public async Task The_grace_period_covers_the_trainer_a_wrapper_shell_started_and_its_last_save_is_pushed()
    {
        await using var run = SupervisedRun.Start(RunFixtures.Run(Store, Dir, ["--format", Pattern, "--grace", "2m"], [Wrapper(), "--save-seconds", "2"]), _temp.Path);
        await run.WaitForLineAsync("^ready$");

        run.Signal(Signals.SigTerm);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 143, run.Output);
        var saved = Regex.Match(run.Output, @"^saved step (\d+)$", RegexOptions.Multiline);
        Assert.True(saved.Success, $"the trainer was killed while saving:\n{run.Output}");
        Assert.Equal(long.Parse(saved.Groups[1].Value, CultureInfo.InvariantCulture), Assert.Single(await RunFixtures.SnapshotsAsync(Store)).Manifest.Step);
    }

    [Fact(Timeout = 180_000)]
    public async Task The_checkpoint_signal_goes_to_the_pid_the_trainer_registered_and_not_to_its_wrapper()
    {
        var preempted = false;
        await using var gce = Gce(() => Volatile.Read(ref preempted));
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(Store, Dir, ["--format", Pattern, "--grace", "2m", "--checkpoint-signal", "SIGUSR1", "--preemption", "gce", "--preemption-interval", "200ms"],
                [Wrapper(), "--register"]),
            _temp.Path, GceEnvironment(gce));
        await run.WaitForLineAsync("^ready$");
        var python = TrainerPid(run);

        Volatile.Write(ref preempted, true);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 75, run.Output);
        Assert.Contains($"sending SIGUSR1 to the trainer (pid {python})", run.Output, StringComparison.Ordinal);
        var checkpointed = Regex.Match(run.Output, @"^checkpoint on SIGUSR1 at step (\d+)$", RegexOptions.Multiline);
        var saved = Regex.Match(run.Output, @"^saved step (\d+)$", RegexOptions.Multiline);
        Assert.True(checkpointed.Success && saved.Success, run.Output);
        var steps = (await RunFixtures.SnapshotsAsync(Store)).Select(s => s.Manifest.Step).ToList();
        Assert.Contains(long.Parse(checkpointed.Groups[1].Value, CultureInfo.InvariantCulture), steps);
        Assert.True(long.Parse(saved.Groups[1].Value, CultureInfo.InvariantCulture) == steps[^1], $"snapshots of steps {string.Join(", ", steps)}\n{run.Output}");
    }

    [Fact(Timeout = 180_000)]
    public async Task A_checkpoint_signal_due_while_the_trainer_is_still_importing_waits_for_its_handler_instead_of_killing_it()
    {
        var preempted = false;
        await using var gce = Gce(() => Volatile.Read(ref preempted));
        // /usr/bin/python3 directly: the trainer is the direct child; it installs its handlers only after "importing".
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(Store, Dir, ["--format", Pattern, "--grace", "2m", "--checkpoint-signal", "SIGUSR1", "--preemption", "gce", "--preemption-interval", "200ms"],
                ["/usr/bin/python3", TreeScript, "--import-seconds", "8"]),
            _temp.Path, GceEnvironment(gce));
        await run.WaitForLineAsync("^importing");

        Volatile.Write(ref preempted, true);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 75, run.Output);
        Assert.DoesNotContain("killed by SIGUSR1", run.Output, StringComparison.Ordinal);
        var checkpointed = Regex.Match(run.Output, @"^checkpoint on SIGUSR1 at step (\d+)$", RegexOptions.Multiline);
        Assert.True(checkpointed.Success, run.Output);
        Assert.Contains(long.Parse(checkpointed.Groups[1].Value, CultureInfo.InvariantCulture), (await RunFixtures.SnapshotsAsync(Store)).Select(s => s.Manifest.Step));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_new_run_refuses_a_directory_whose_trainer_outlived_its_killed_supervisor()
    {
        await using var first = SupervisedRun.Start(RunFixtures.Run(Store, Dir, ["--format", Pattern], [Wrapper()]), _temp.Path);
        await first.WaitForLineAsync("^baton: started ");
        await first.WaitForLineAsync("^ready$");
        var python = TrainerPid(first);
        var snapshots = (await RunFixtures.SnapshotsAsync(Store)).Count;

        first.KillSupervisor();
        await first.WaitForSupervisorExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(RunFixtures.IsAlive(python), "the trainer is in its own group and survives its supervisor");

        // --take-over: the store's lease of the dead supervisor does not hold the new run up; only the directory does.
        await using var second = SupervisedRun.Start(RunFixtures.Run(Store, Dir, ["--format", Pattern, "--take-over"], [Wrapper()]), _temp.Path);
        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 5, second.Output);
        var line = Assert.Single(second.Lines);
        Assert.Contains("another trainer still writes to", line, StringComparison.Ordinal);
        Assert.Contains(python.ToString(CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
        Assert.Contains(first.TrainerPids[0].ToString(CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
        Assert.Empty(second.TrainerPids);
        Assert.True(RunFixtures.IsAlive(python), "the orphan is left to its owner");
        Assert.Equal(snapshots, (await RunFixtures.SnapshotsAsync(Store)).Count);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_directory_where_no_checkpoint_appears_is_warned_about_during_the_run_and_at_its_end()
    {
        var go = _temp.Combine("go");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(Store, Dir, ["--format", Pattern, "--no-checkpoint-warning", "1s"],
                ["sh", "-c", $"echo ready; while [ ! -f '{go}' ]; do sleep 0.05; done; echo written elsewhere > '{_temp.Combine("ckpt-1.bin")}'"]),
            _temp.Path);
        await run.WaitForLineAsync("^ready$");

        await run.WaitForLineAsync(Regex.Escape($"baton: no checkpoint in {Dir} after 1s of training: looking for files matching ckpt-{{step}}.bin"));
        File.WriteAllBytes(go, []);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, run.Output);
        Assert.Contains($"the trainer wrote no checkpoint to {Dir} in this run: looked for files matching ckpt-{{step}}.bin", run.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_trainer_killed_by_the_SIGTERM_that_also_stops_baton_is_not_restarted()
    {
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(Store, Dir, ["--format", Pattern], ["sh", "-c", "echo ready; while :; do sleep 0.05; done"]),
            _temp.Path);
        await run.WaitForLineAsync("^baton: started ");
        await run.WaitForLineAsync("^ready$");

        // SLURM signals every process of the job: here the trainer's copy arrives first.
        Signals.Send(-run.TrainerPids[0], Signals.SigTerm);
        await run.WaitForLineAsync("killed by SIGTERM");
        run.Signal(Signals.SigTerm);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 143, run.Output);
        Assert.DoesNotContain("restarting in", run.Output, StringComparison.Ordinal);
        Assert.Contains("trainer stopped by SIGTERM; baton is stopping", run.Output, StringComparison.Ordinal);
        Assert.Single(run.TrainerPids);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_trainer_that_saves_and_exits_143_on_the_SIGTERM_that_also_stops_baton_is_not_restarted()
    {
        // A trainer that catches SIGTERM to write a last checkpoint exits 143 by itself, as a shell does: SLURM's requeue
        // signals it and baton at once, and the trainer may be gone before baton's own copy of the signal is handled.
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(Store, Dir, ["--format", Pattern], ["sh", "-c", "trap 'echo saving; exit 143' TERM; echo ready; while :; do sleep 0.05; done"]),
            _temp.Path);
        await run.WaitForLineAsync("^baton: started ");
        await run.WaitForLineAsync("^ready$");

        Signals.Send(run.TrainerPids[0], Signals.SigTerm);
        await run.WaitForLineAsync("exit code 143");
        run.Signal(Signals.SigTerm);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 143, run.Output);
        Assert.DoesNotContain("restarting in", run.Output, StringComparison.Ordinal);
        Assert.Contains("trainer stopped by SIGTERM (exit code 143); baton is stopping too (SIGTERM): pushing the last checkpoint, not restarting the trainer",
            run.Output, StringComparison.Ordinal);
        Assert.Single(run.TrainerPids);
    }

    public void Dispose() => _temp.Dispose();

    private static string TreeScript => Path.Combine(AppContext.BaseDirectory, "Trainers", "tree.py");

    // A wrapper that runs the trainer without exec, as most train.sh scripts do.
    private string Wrapper()
    {
        var path = _temp.Combine("train.sh");
        File.WriteAllText(path, $"#!/bin/sh\necho \"wrapper $$\"\n/usr/bin/python3 '{TreeScript}' \"$@\"\necho wrapper done\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static int TrainerPid(SupervisedRun run) =>
        int.Parse(Regex.Match(run.Output, @"^importing \(pid (\d+)\)$", RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture);

    private static LoopbackHttpServer Gce(Func<bool> preempted) => new(r =>
        r.Url!.AbsolutePath.EndsWith("/instance/preempted", StringComparison.Ordinal) && r.Headers["Metadata-Flavor"] == "Google"
            ? new HttpReply(200, preempted() ? "TRUE" : "FALSE")
            : new HttpReply(404));

    private static Dictionary<string, string?> GceEnvironment(LoopbackHttpServer gce) =>
        new() { ["BATON_GCE_METADATA_URL"] = new Uri(gce.BaseAddress, "computeMetadata/v1").ToString() };
}
