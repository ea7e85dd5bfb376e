using System.Diagnostics;
using Baton.Testing;

namespace Baton.Tests.Examples;

/// <summary>The C# library example (examples/LinearTrainer) built and run as a real process, killed and resumed.</summary>
public sealed class LinearTrainerExampleTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task A_killed_trainer_resumes_on_a_new_machine_and_ends_with_the_same_weights()
    {
        var reference = _temp.Combine("reference");
        Assert.Equal(0, (await RunAsync(_temp.Combine("store-a"), reference, waitForExit: true)).ExitCode);

        // Kill the trainer (SIGKILL) once a snapshot is committed, then resume on an empty directory: a new machine.
        var store = _temp.Combine("store-b");
        using (var doomed = Start(store, _temp.Combine("machine-1"), msPerStep: 10))
        {
            var snapshots = Path.Combine(store, "runs", "linear", "snapshots");
            var clock = Stopwatch.StartNew();
            while (!(Directory.Exists(snapshots) && Directory.EnumerateFiles(snapshots).Any()))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60) && !doomed.HasExited, "the trainer committed no snapshot");
                await Task.Delay(10);
            }

            doomed.Kill();
            await doomed.WaitForExitAsync();
        }

        var resumed = await RunAsync(store, _temp.Combine("machine-2"), waitForExit: true);
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Matches(@"resumed from step \d+", resumed.Output);
        Assert.DoesNotContain("resumed from step 400", resumed.Output, StringComparison.Ordinal);
        Assert.True(TestData.FilesEqual(Path.Combine(reference, "weights.bin"), _temp.Combine("machine-2", "weights.bin")),
            "the resumed run's final weights differ from the uninterrupted run's");
    }

    private static Process Start(string store, string checkpoints, int msPerStep = 0)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "LinearTrainer.dll"), store, "linear", checkpoints, "400", $"{msPerStep}" })
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string store, string checkpoints, bool waitForExit)
    {
        using var process = Start(store, checkpoints);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (waitForExit)
        {
            await process.WaitForExitAsync();
        }

        return (process.ExitCode, await output + await error);
    }

    public void Dispose() => _temp.Dispose();
}
