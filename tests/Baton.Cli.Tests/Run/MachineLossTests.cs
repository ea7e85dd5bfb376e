using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// A lost machine: the supervisor and the trainer SIGKILLed together; a fresh supervisor on a fresh, empty checkpoint
/// directory must resume from the newest committed step and end with the same bits as a run that never stopped.
/// </summary>
public sealed class MachineLossTests : IDisposable
{
    private const int Steps = 120;
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task A_fresh_supervisor_on_an_empty_directory_resumes_from_the_newest_committed_step_and_ends_bit_identical()
    {
        var reference = await RunFixtures.DemoReferenceAsync(_temp.Combine("reference"), Steps);
        var store = _temp.Combine("store");

        var first = _temp.Combine("machine-1");
        await using (var run = Start(store, first))
        {
            await run.WaitForLineAsync("^baton: pushed step 40:");
            await run.WaitForStepAsync(47);
            run.KillSupervisor();
            run.KillTrainer();
            await run.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        var durable = (await RunFixtures.SnapshotsAsync(store))[^1].Manifest.Step;
        Assert.True(durable >= 40, $"the store holds step {durable}");

        await using var second = Start(store, _temp.Combine("machine-2"));
        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, second.Output);
        Assert.Contains($"baton: restored step {durable} ", second.Output, StringComparison.Ordinal);
        Assert.Contains($"resumed at step {durable}", second.Output, StringComparison.Ordinal);
        Assert.Equal(reference, RunFixtures.WeightsHash(second.Output));

        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    public void Dispose() => _temp.Dispose();

    private SupervisedRun Start(string store, string machine)
    {
        var dir = Path.Combine(machine, "logs");
        return SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", "tf", "--resume-args=--resume"],
                RunFixtures.DemoTrainer(dir, "--steps", $"{Steps}", "--every", "10", "--step-ms", "25")),
            _temp.Path);
    }
}
