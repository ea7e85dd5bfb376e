using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>Restarts with backoff, crash-loop detection and the restart budget, with their exit codes.</summary>
public sealed class RestartTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task A_trainer_that_fails_once_is_restarted_from_its_local_checkpoint_and_finishes()
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--resume-args=--resume"],
                RunFixtures.Python("tf", dir, "--steps", "30", "--every", "5", "--step-ms", "20", "--fail-at", "23", "--fail-marker", _temp.Combine("failed-once"))),
            _temp.Path);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 0, run.Output);
        Assert.Contains("baton: trainer exit code 1 after", run.Output, StringComparison.Ordinal);
        Assert.Contains("resuming from step 20 (resume arguments added)", run.Output, StringComparison.Ordinal);
        var leg = Assert.Single(await RunFixtures.LegsAsync(store));
        Assert.Equal(("finished", 1), (leg.EndReason, leg.Restarts));
        var last = (await RunFixtures.RestoreEachAsync(store, _temp.Combine("verify")))[^1];
        var verify = await RunFixtures.PythonAsync("verify", "--layout", "tf", $"{last.Directory}:30");
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_trainer_that_keeps_failing_without_a_new_checkpoint_is_a_crash_loop_with_exit_6()
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--crash-loop", "3"], RunFixtures.Python("pattern", dir, "--always-fail")),
            _temp.Path);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 6, run.Output);
        Assert.Contains("crash loop: the trainer failed 3 times in a row without writing a new checkpoint", run.Output, StringComparison.Ordinal);
        Assert.Equal(3, run.TrainerPids.Count);
        Assert.Equal(("crash-loop", 2), Assert.Single(await RunFixtures.LegsAsync(store)) is var leg ? (leg.EndReason, leg.Restarts) : default);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_restart_budget_stops_a_trainer_that_fails_after_making_progress()
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--max-restarts", "2", "--resume-args=--resume"],
                RunFixtures.Python("tf", dir, "--steps", "1000", "--every", "5", "--step-ms", "20", "--fail-after", "7")),
            _temp.Path);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 6, run.Output);
        Assert.Contains("--max-restarts 2", run.Output, StringComparison.Ordinal);
        Assert.Equal(3, run.TrainerPids.Count);
        var leg = Assert.Single(await RunFixtures.LegsAsync(store));
        Assert.Equal(("max-restarts", 2), (leg.EndReason, leg.Restarts));
        Assert.Equal(3, leg.TrainerExits.Count);
    }

    public void Dispose() => _temp.Dispose();
}
