using System.Diagnostics;
using Baton.Testing;
using Baton.Tests.Leases;

namespace Baton.Tests.Maintenance;

/// <summary>
/// A prune next to a push that is paused (SIGSTOP) after uploading packs, judged by a prune whose clock runs ahead or
/// that runs in another pid namespace under the same host name: the push either keeps its data or fails, never exits
/// 0 with a snapshot that cannot be pulled.
/// </summary>
public sealed class ConcurrentPruneTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 300_000)]
    public async Task A_paused_push_keeps_its_packs_when_a_prune_whose_clock_runs_twenty_minutes_ahead_collects()
    {
        var (store, source) = await PrepareAsync();
        using var push = BatonCli.Start(["push", source, "--store", store, "--run", "r", "--step", "2", "--quiet"]);
        push.StandardInput.Close();
        var pushOut = push.StandardOutput.ReadToEndAsync();
        var pushErr = push.StandardError.ReadToEndAsync();
        await PauseAfterItsFirstPackAsync(push.Id, store);

        CliResult? pruned;
        try
        {
            using var prune = ForeignBaton.WithClock("+20m", ["prune", "--store", store, "--run", "old", "--keep-last", "1"]);
            Assert.True(await prune.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, prune.Output);
            pruned = new CliResult(0, prune.Output, "");
        }
        finally
        {
            Signals.Send(push.Id, Signals.SigCont);
        }

        await push.WaitForExitAsync();
        await AssertKeptOrFailedAsync(push.ExitCode, $"{await pushOut}{await pushErr}\n--- prune\n{pruned}", store, source);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_paused_push_in_another_pid_namespace_with_the_same_host_name_is_not_swept()
    {
        var (store, source) = await PrepareAsync();
        // Its pid exists in its namespace only: to a check by host name and pid alone it looks dead.
        using var push = ForeignBaton.InPidNamespace(["push", source, "--store", store, "--run", "r", "--step", "2", "--quiet"], ForeignBaton.UnusedPid());
        var pid = await push.BatonPidAsync();
        await PauseAfterItsFirstPackAsync(pid, store);

        CliResult pruned;
        try
        {
            pruned = await BatonCli.RunAsync(["prune", "--store", store, "--run", "old", "--keep-last", "1"]);
            Assert.True(pruned.ExitCode == 0, pruned.ToString());
        }
        finally
        {
            Signals.Send(pid, Signals.SigCont);
        }

        var exit = await push.WaitForExitAsync(TimeSpan.FromMinutes(3));
        await AssertKeptOrFailedAsync(exit, $"{push.Output}\n--- prune\n{pruned}", store, source);
    }

    [Fact(Timeout = 400_000)]
    public async Task A_prune_paused_in_its_sweep_stops_itself_when_it_resumes_and_a_push_meanwhile_waits_then_succeeds()
    {
        var store = _temp.Combine("store");
        Assert.Equal(0, (await BatonCli.RunAsync(["init", "--store", store])).ExitCode);
        // Snapshot 1 holds twelve 32 MB files (a pack each), snapshot 2 the first 12 MB of each: pruning snapshot 1
        // repacks twelve packs that are mostly garbage (copying 144 MB, which takes a while), then deletes them.
        var old = _temp.Combine("old");
        for (var i = 0; i < 12; i++)
        {
            TestData.WriteRandomFile(Path.Combine(old, $"f{i}.bin"), 32 << 20, 10 + i);
        }

        Assert.Equal(0, (await BatonCli.RunAsync(["push", old, "--store", store, "--run", "old", "--step", "1"])).ExitCode);
        foreach (var file in Directory.EnumerateFiles(old))
        {
            using var stream = new FileStream(file, FileMode.Open);
            stream.SetLength(12 << 20);
        }

        Assert.Equal(0, (await BatonCli.RunAsync(["push", old, "--store", store, "--run", "old", "--step", "2"])).ExitCode);
        var packs = Directory.EnumerateFiles(Path.Combine(store, "data"), "*", SearchOption.AllDirectories).ToList();

        using var prune = BatonCli.Start(["prune", "--store", store, "--run", "old", "--keep-last", "1"]);
        prune.StandardInput.Close();
        var pruneOut = prune.StandardOutput.ReadToEndAsync();
        var pruneErr = prune.StandardError.ReadToEndAsync();
        var inflight = Path.Combine(store, "inflight");
        var clock = Stopwatch.StartNew();
        while (!(Directory.Exists(inflight) && Directory.EnumerateFiles(inflight).Any(f => !Path.GetFileName(f).StartsWith('.'))))
        {
            if (prune.HasExited || clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                Assert.Fail($"the prune ended (exit {(prune.HasExited ? prune.ExitCode : -1)}) before the test saw it sweep: {await pruneOut}{await pruneErr}");
            }

            await Task.Delay(2);
        }

        Signals.Send(prune.Id, Signals.SigStop);
        CliResult pushed;
        try
        {
            while (!ForeignBaton.IsStopped(prune.Id))
            {
                await Task.Delay(5);
            }

            Assert.All(packs, p => Assert.True(File.Exists(p), "the prune deleted a pack before it was stopped; the test caught it too late"));
            var source = _temp.Combine("new");
            TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 3_000_000, 99);
            pushed = await BatonCli.RunAsync(["push", source, "--store", store, "--run", "new", "--step", "1"], timeout: TimeSpan.FromMinutes(3));
        }
        finally
        {
            Signals.Send(prune.Id, Signals.SigCont);
        }

        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        await prune.WaitForExitAsync();
        var pruneOutput = $"{await pruneOut}{await pruneErr}";
        Assert.True(prune.ExitCode == 5, $"exit {prune.ExitCode}: {pruneOutput}");
        Assert.Contains("stopped without deleting more", pruneOutput, StringComparison.Ordinal);
        Assert.All(packs, p => Assert.True(File.Exists(p), $"the resumed prune deleted {p}"));

        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
        var again = await BatonCli.RunAsync(["prune", "--store", store, "--run", "old", "--keep-last", "1"]);
        Assert.True(again.ExitCode == 0, again.ToString());
        check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    // A store where run "old" has two snapshots (the first holds shared.bin), and a checkpoint that shares shared.bin
    // and adds a file big enough that its push is still uploading after its first pack.
    private async Task<(string Store, string Source)> PrepareAsync()
    {
        var store = _temp.Combine("store");
        Assert.Equal(0, (await BatonCli.RunAsync(["init", "--store", store])).ExitCode);
        var old = _temp.Combine("old");
        TestData.WriteRandomFile(Path.Combine(old, "shared.bin"), 48_000_000, 1);
        Assert.Equal(0, (await BatonCli.RunAsync(["push", old, "--store", store, "--run", "old", "--step", "1"])).ExitCode);
        File.Delete(Path.Combine(old, "shared.bin"));
        TestData.WriteRandomFile(Path.Combine(old, "other.bin"), 10_000, 2);
        Assert.Equal(0, (await BatonCli.RunAsync(["push", old, "--store", store, "--run", "old", "--step", "2"])).ExitCode);

        var source = _temp.Combine("ckpt");
        TestData.WriteRandomFile(Path.Combine(source, "shared.bin"), 48_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 400_000_000, 3);
        return (store, source);
    }

    private static async Task PauseAfterItsFirstPackAsync(int pid, string store)
    {
        var data = Path.Combine(store, "data");
        var before = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Count();
        var clock = Stopwatch.StartNew();
        while (Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Count(f => !Path.GetFileName(f).StartsWith('.')) <= before)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), "the push uploaded no pack");
            await Task.Delay(5);
        }

        Signals.Send(pid, Signals.SigStop);
        while (!ForeignBaton.IsStopped(pid))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(150), "the push did not stop");
            await Task.Delay(5);
        }
    }

    private async Task AssertKeptOrFailedAsync(int pushExit, string context, string store, string source)
    {
        if (pushExit != 0)
        {
            return; // failing loudly is allowed; what is not allowed is success with lost data
        }

        var pulled = _temp.Combine("pulled");
        var pull = await BatonCli.RunAsync(["pull", pulled, "--store", store, "--run", "r"]);
        Assert.True(pull.ExitCode == 0, $"{pull}\n--- push\n{context}");
        TestData.AssertSameTree(source, pulled);
        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, $"{check}\n--- push\n{context}");
    }

    public void Dispose() => _temp.Dispose();
}
