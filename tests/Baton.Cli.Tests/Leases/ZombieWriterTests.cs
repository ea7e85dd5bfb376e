using System.Diagnostics;
using System.Text.Json;
using Baton.Testing;

namespace Baton.Tests.Leases;

public sealed class ZombieWriterTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task A_paused_push_that_was_taken_over_cannot_commit_when_it_wakes_up()
    {
        var store = _temp.Combine("store");
        var big = _temp.Combine("big");
        // Big enough that the push is still running when the marker is seen (a push of 120 MB takes well under a second).
        TestData.WriteRandomFile(Path.Combine(big, "weights.bin"), 400_000_000, 1);
        var small = _temp.Combine("small");
        TestData.WriteRandomFile(Path.Combine(small, "weights.bin"), 100_000, 2);
        Assert.Equal(0, (await BatonCli.RunAsync(["init", "--store", store])).ExitCode);

        using var zombie = BatonCli.Start(["push", big, "--store", store, "--run", "r", "--step", "1", "--quiet"]);
        zombie.StandardInput.Close();
        var zombieErr = zombie.StandardError.ReadToEndAsync();
        var zombieOut = zombie.StandardOutput.ReadToEndAsync();
        await WaitForAsync(() => Directory.Exists(Path.Combine(store, "inflight")) && Directory.EnumerateFiles(Path.Combine(store, "inflight")).Any());
        Signals.Send(zombie.Id, Signals.SigStop);
        try
        {
            var refused = await BatonCli.RunAsync(["push", small, "--store", store, "--run", "r", "--step", "2"]);
            Assert.True(refused.ExitCode == 5, refused.ToString());
            Assert.Contains("is held by baton push", refused.StdErr, StringComparison.Ordinal);

            var taken = await BatonCli.RunAsync(["push", small, "--store", store, "--run", "r", "--step", "2", "--take-over"]);
            Assert.True(taken.ExitCode == 0, taken.ToString());
        }
        finally
        {
            Signals.Send(zombie.Id, Signals.SigCont);
        }

        await zombie.WaitForExitAsync();
        Assert.True(zombie.ExitCode == 5, $"zombie exit {zombie.ExitCode}: {await zombieErr}");
        Assert.Contains("fenced", await zombieErr, StringComparison.Ordinal);
        Assert.Equal("", (await zombieOut).Trim());

        var ls = await BatonCli.RunAsync(["ls", "--store", store, "--run", "r", "--json"]);
        var steps = JsonDocument.Parse(ls.StdOut).RootElement.EnumerateArray().Select(e => e.GetProperty("step").GetInt64()).ToList();
        Assert.Equal([2L], steps);
        Assert.Equal(0, (await BatonCli.RunAsync(["check", "--store", store, "--read-data"])).ExitCode);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "timed out waiting for the push to start");
            await Task.Delay(1);
        }
    }

    public void Dispose() => _temp.Dispose();
}
