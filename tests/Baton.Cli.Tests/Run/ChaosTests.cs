using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// A bounded chaos test: six SIGKILLs at random moments, each of the trainer alone (the supervisor restarts it in
/// place) or of the whole machine (a fresh supervisor on an empty directory takes over); the run must still end with
/// the same bits as one that was never interrupted, and the store must check clean.
/// </summary>
public sealed class ChaosTests : IDisposable
{
    private const int Steps = 200;
    private const int Kills = 6;
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 300_000)]
    public async Task Six_random_kills_of_trainer_and_supervisor_lose_nothing_that_was_committed()
    {
        var seed = Random.Shared.Next();
        var random = new Random(seed);
        var reference = await RunFixtures.DemoReferenceAsync(_temp.Combine("reference"), Steps);
        var store = _temp.Combine("store");
        var story = new List<string> { $"seed {seed}" };
        var target = 0L;
        var machine = 0;
        var kills = 0;
        SupervisedRun? run = null;
        try
        {
            while (true)
            {
                if (run is null)
                {
                    machine++;
                    run = Start(store, _temp.Combine($"machine-{machine}", "logs"));
                }

                if (kills == Kills)
                {
                    var exit = await run.WaitForExitAsync(TimeSpan.FromSeconds(150));
                    Assert.True(exit == 0, string.Join("; ", story) + "\n" + run.Output);
                    Assert.Equal(reference, RunFixtures.WeightsHash(run.Output));
                    break;
                }

                target += random.Next(12, 26);
                var started = run.TrainerPids.Count;
                await run.WaitForStepAsync(target, from: Math.Max(0, run.Lines.Count - 1));
                await Task.Delay(random.Next(0, 25));
                kills++;
                if (random.Next(2) == 0)
                {
                    story.Add($"trainer killed at step ~{target}");
                    run.KillTrainer();
                    await run.WaitForLineAsync(@"^baton: started ", from: Math.Max(0, run.Lines.Count - 1));
                    Assert.True(run.TrainerPids.Count > started, string.Join("; ", story));
                }
                else
                {
                    story.Add($"machine {machine} lost at step ~{target}");
                    run.KillSupervisor();
                    run.KillTrainer();
                    await run.WaitForExitAsync(TimeSpan.FromSeconds(30));
                    await run.DisposeAsync();
                    run = null;
                    target = (await RunFixtures.SnapshotsAsync(store)) is { Count: > 0 } s ? s[^1].Manifest.Step ?? 0 : 0;
                }
            }
        }
        finally
        {
            if (run is not null)
            {
                await run.DisposeAsync();
            }
        }

        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
        var legs = await RunFixtures.LegsAsync(store);
        Assert.Equal(machine, legs.Count);
        Assert.Equal("finished", legs[^1].EndReason);
    }

    public void Dispose() => _temp.Dispose();

    private SupervisedRun Start(string store, string dir) => SupervisedRun.Start(
        RunFixtures.Run(store, dir, ["--format", "tf", "--resume-args=--resume", "--crash-loop", "0"],
            RunFixtures.DemoTrainer(dir, "--steps", $"{Steps}", "--every", "10", "--step-ms", "15")),
        _temp.Path);
}
