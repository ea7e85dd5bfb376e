using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// Each distributed checkpoint layout end to end: a plain-Python trainer (no ML packages; Trainers/distributed_layouts.py
/// stands in for two ranks, writing each framework's files in its order) under <c>baton run</c>, SIGKILLed while it
/// writes a checkpoint; every snapshot that reached the store must hold exactly one step's complete files.
/// </summary>
public sealed class DistributedLayoutTests : IDisposable
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Trainers", "distributed_layouts.py");
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 120_000)]
    [InlineData("dcp", "dcp")]
    [InlineData("dcp", "auto")]
    [InlineData("deepspeed", "deepspeed")]
    [InlineData("deepspeed", "auto")]
    [InlineData("megatron", "megatron")]
    [InlineData("megatron", "auto")]
    [InlineData("nemo", "nemo")]
    [InlineData("nemo", "auto")]
    [InlineData("accelerate", "accelerate")]
    [InlineData("accelerate", "auto")]
    public async Task A_trainer_killed_mid_write_never_leaves_a_partial_distributed_checkpoint_in_the_store(string layout, string format)
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", format, "--resume-args=--resume"],
                ["python3", Script, "train", "--layout", layout, "--dir", dir, "--steps", "40", "--every", "5", "--step-ms", "40"]),
            _temp.Path);

        await run.WaitForLineAsync("^writing step 20$");
        await Task.Delay(Random.Shared.Next(0, 25));
        run.KillTrainer();

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 0, run.Output);
        Assert.Contains("killed by SIGKILL", run.Output, StringComparison.Ordinal);
        if (format == "auto")
        {
            Assert.Contains($"checkpoint format: {layout}", run.Output, StringComparison.Ordinal);
        }

        var restored = await RunFixtures.RestoreEachAsync(store, _temp.Combine("verify"));
        Assert.True(restored.Count >= 2, run.Output);
        Assert.True(restored[^1].Step == 40, run.Output);
        var verify = await VerifyAsync(["verify", "--layout", layout, .. restored.Select(r => $"{r.Directory}:{r.Step}")]);
        Assert.True(verify.ExitCode == 0, verify.Output + "\n" + run.Output);
    }

    private static Task<(int ExitCode, string Output)> VerifyAsync(string[] args) => RunFixtures.PythonScriptAsync(Script, args);

    public void Dispose() => _temp.Dispose();
}
