using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>Stopping well: the signal goes to the trainer, its last checkpoint reaches the store, the exit code says why.</summary>
public sealed class SignalTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 120_000)]
    [InlineData(Signals.SigTerm, 143, "SIGTERM")]
    [InlineData(Signals.SigInt, 130, "SIGINT")]
    [InlineData(Signals.SigHup, 129, "SIGHUP")]
    public async Task A_signal_commits_the_checkpoint_the_trainer_writes_on_it_before_exiting(int signal, int exitCode, string name)
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", "torch"],
                RunFixtures.Python("torch", dir, "--steps", "100000", "--every", "100000", "--step-ms", "10", "--checkpoint-on-term")),
            _temp.Path);
        await run.WaitForLineAsync("^step 20$");

        run.Signal(signal);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == exitCode, run.Output);
        var stopped = long.Parse(Regex.Match(run.Output, @"stopping at step (\d+) after a last checkpoint").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var snapshot = Assert.Single(await RunFixtures.SnapshotsAsync(store));
        Assert.Equal(stopped, snapshot.Manifest.Step);
        Assert.Equal($"signal {name}", Assert.Single(await RunFixtures.LegsAsync(store)).EndReason);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_second_SIGINT_kills_a_trainer_that_ignores_the_first_at_once()
    {
        var dir = _temp.Combine("ckpt");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(_temp.Combine("store"), dir, ["--grace", "10m"], ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"]),
            _temp.Path);
        await run.WaitForLineAsync("^ready$");

        run.Signal(Signals.SigInt);
        await run.WaitForLineAsync("waiting up to 10m");
        run.Signal(Signals.SigInt);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 130, run.Output);
        Assert.Contains("SIGINT again: killing the trainer now", run.Output, StringComparison.Ordinal);
        Assert.False(RunFixtures.IsAlive(run.TrainerPids[0]), "the trainer outlived the supervisor");
    }

    public void Dispose() => _temp.Dispose();
}
