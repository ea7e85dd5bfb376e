using Baton.Testing;

namespace Baton.Tests.Metadata;

/// <summary>A run's newest manifest deleted or lost: its writer's heartbeat still records that it was committed.</summary>
public sealed class VanishedSnapshotTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _store;
    private readonly string _source;

    public VanishedSnapshotTests()
    {
        _store = _temp.Combine("store");
        _source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(_source, "model.bin"), 200_000, 1);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_deleted_newest_manifest_fails_check_and_pull_naming_it_and_an_explicit_snapshot_still_restores()
    {
        var first = (await Cli.PushAsync(_source, _store, "r", "--step", "1")).GetProperty("id").GetString()!;
        await Cli.PushAsync(_source, _store, "r", "--step", "2");
        const string newest = "runs/r/snapshots/0000000002";
        File.Delete(Path.Combine(_store, newest));

        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");
        var pull = await Cli.RunAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--quiet");
        var explicitPull = await Cli.RunAsync("pull", _temp.Combine("old"), "--store", _store, "--run", "r", "--snapshot", first, "--quiet");

        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains($"error: snapshot manifest '{newest}' is missing", check.StdOut, StringComparison.Ordinal);
        Cli.AssertOneLineError(pull, 4, "run 'r' (#2)", "runs/r/heartbeats/0000000002", "--snapshot");
        Assert.False(Directory.Exists(_temp.Combine("dst")));
        Assert.True(explicitPull.ExitCode == 0, explicitPull.ToString());
    }

    [Fact(Timeout = 120_000)]
    public async Task Snapshots_that_prune_removed_are_not_reported_as_vanished()
    {
        for (var step = 1; step <= 3; step++)
        {
            File.WriteAllText(Path.Combine(_source, "step.txt"), $"{step}");
            await Cli.PushAsync(_source, _store, "r", "--step", $"{step}");
        }

        await Cli.SucceedAsync("prune", "--store", _store, "--run", "r", "--keep-last", "1", "--quiet");
        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");
        var pull = await Cli.RunAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--quiet");

        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.True(pull.ExitCode == 0, pull.ToString());
    }

    public void Dispose() => _temp.Dispose();
}
