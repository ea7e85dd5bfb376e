using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// Each checkpoint layout end to end: a real Python trainer under <c>baton run</c>, SIGKILLed while it writes a
/// checkpoint; every snapshot that reached the store must be one whole checkpoint, exactly right for its step.
/// </summary>
public sealed class LayoutTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 120_000)]
    [InlineData("tf", "auto")]
    [InlineData("torch", "auto")]
    [InlineData("hf", "auto")]
    [InlineData("orbax", "auto")]
    [InlineData("orbax-marker", "orbax")]
    [InlineData("keras", "auto")]
    [InlineData("pattern", "pattern:ckpt-{step}.bin")]
    public async Task A_trainer_killed_mid_write_never_leaves_a_partial_checkpoint_in_the_store(string layout, string format)
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        // A checkpoint every half second: Keras rewrites its weights file in place, and a push still reading it when
        // the next one starts is abandoned, so on a loaded machine a shorter interval commits nothing until the end.
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", format, "--resume-args=--resume"],
                RunFixtures.Python(layout, dir, "--steps", "40", "--every", "5", "--step-ms", "100")),
            _temp.Path);

        await run.WaitForLineAsync("^writing step 20$");
        await Task.Delay(Random.Shared.Next(0, 25));
        run.KillTrainer();

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 0, run.Output);
        Assert.Contains("killed by SIGKILL", run.Output, StringComparison.Ordinal);
        Assert.Equal(2, run.TrainerPids.Count);
        var restored = await RunFixtures.RestoreEachAsync(store, _temp.Combine("verify"));
        Assert.True(restored.Count >= 2, run.Output);
        Assert.True(restored[^1].Step == 40, run.Output);
        var verify = await RunFixtures.PythonAsync(["verify", "--layout", layout, .. restored.Select(r => $"{r.Directory}:{r.Step}")]);
        Assert.True(verify.ExitCode == 0, verify.Output + "\n" + run.Output);
    }

    public void Dispose() => _temp.Dispose();
}
