using System.Diagnostics;
using Baton.Testing;
using Baton.Tests.Run;

namespace Baton.Tests.Leases;

/// <summary>
/// Writers in another pid namespace under the same host name (a container with <c>--network host</c>, two machines
/// with one name): a live one is not taken over, and a dead one is succeeded within 30 seconds of its death.
/// </summary>
public sealed class PidNamespaceLeaseTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 240_000)]
    public async Task A_live_run_in_another_pid_namespace_with_the_same_host_name_is_not_taken_over()
    {
        var store = _temp.Combine("store");
        Assert.Equal(0, (await BatonCli.RunAsync(["init", "--store", store])).ExitCode);
        var ready = _temp.Combine("trainer-started");
        // Its pid exists in its namespace only: to a check by host name and pid alone it looks dead.
        using var run = ForeignBaton.InPidNamespace(RunFixtures.Run(store, _temp.Combine("logs"), [], ["sh", "-c", $"touch '{ready}'; exec sleep 600"]),
            ForeignBaton.UnusedPid());
        await WaitForFileAsync(ready, run);

        var small = _temp.Combine("small");
        TestData.WriteRandomFile(Path.Combine(small, "w.bin"), 10_000, 7);
        var push = await BatonCli.RunAsync(["push", small, "--store", store, "--run", "r", "--step", "3"]);

        Assert.True(push.ExitCode == 5, $"a live writer in another pid namespace was taken over: {push}\n--- run\n{run.Output}");
        Assert.Contains("is held by baton run", push.StdErr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_successor_starts_within_30_seconds_of_a_supervisor_killed_in_another_pid_namespace()
    {
        var store = _temp.Combine("store");
        Assert.Equal(0, (await BatonCli.RunAsync(["init", "--store", store])).ExitCode);
        var ready = _temp.Combine("first-trainer-started");
        // baton is the namespace's init (pid 1, a pid this namespace has too): only its heartbeat can tell it is gone.
        using (var first = ForeignBaton.InPidNamespace(RunFixtures.Run(store, _temp.Combine("machine-1"), [], ["sh", "-c", $"touch '{ready}'; exec sleep 600"])))
        {
            await WaitForFileAsync(ready, first);
            var supervisor = await first.BatonPidAsync();
            Signals.Send(supervisor, Signals.SigKill); // the namespace's init: its trainer dies with it
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        var died = Stopwatch.StartNew();
        var started = _temp.Combine("second-trainer-started");
        await using var second = SupervisedRun.Start(RunFixtures.Run(store, _temp.Combine("machine-2"), [], ["sh", "-c", $"touch '{started}'"]), _temp.Path);
        while (!File.Exists(started))
        {
            Assert.True(died.Elapsed < TimeSpan.FromSeconds(90), $"no successor after {died.Elapsed}:\n{second.Output}");
            await Task.Delay(20);
        }

        var waited = died.Elapsed;
        Assert.True(waited < TimeSpan.FromSeconds(30), $"the successor started {waited.TotalSeconds:0.0}s after the old supervisor died:\n{second.Output}");
        Assert.Contains("took run 'r' over from baton run", second.Output, StringComparison.Ordinal);
        Console.WriteLine($"successor started {waited.TotalSeconds:0.0}s after the supervisor was killed");
    }

    private static async Task WaitForFileAsync(string path, ForeignBaton process)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"the trainer never started:\n{process.Output}");
            await Task.Delay(20);
        }
    }

    public void Dispose() => _temp.Dispose();
}
