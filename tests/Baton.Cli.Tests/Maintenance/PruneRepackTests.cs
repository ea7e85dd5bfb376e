using Baton.Testing;

namespace Baton.Tests.Maintenance;

public sealed class PruneRepackTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Prune_says_what_it_would_repack_and_what_it_repacked()
    {
        var store = _temp.Combine("store");
        var source = _temp.Combine("ckpt");
        TestData.WriteRandomFile(Path.Combine(source, "model_config.bin"), 64_000, 7);
        for (var step = 1; step <= 2; step++)
        {
            TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 2_000_000, step);
            var push = await BatonCli.RunAsync(["push", source, "--store", store, "--run", "r", "--step", $"{step}", "--quiet"]);
            Assert.True(push.ExitCode == 0, push.ToString());
        }

        var dryRun = await BatonCli.RunAsync(["prune", "--store", store, "--run", "r", "--keep-last", "1", "--dry-run"]);
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Matches(@"1 mostly-empty pack\(s\) would be repacked, reclaiming about 1\.9 MiB", dryRun.StdOut);

        var prune = await BatonCli.RunAsync(["prune", "--store", store, "--run", "r", "--keep-last", "1"]);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Matches(@"repacked 1 pack\(s\) into 1: copied 62\.5 KiB still in use, reclaimed 1\.9 MiB", prune.StdOut);

        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.DoesNotContain("warning", check.StdOut, StringComparison.Ordinal);
        var pulled = _temp.Combine("pulled");
        Assert.Equal(0, (await BatonCli.RunAsync(["pull", pulled, "--store", store, "--run", "r", "--quiet"])).ExitCode);
        TestData.AssertSameTree(source, pulled);
    }

    public void Dispose() => _temp.Dispose();
}
