using Baton.Testing;

namespace Baton.Tests.Metadata;

public sealed class DamagedLeaseTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _store;
    private readonly string _source;

    public DamagedLeaseTests()
    {
        _store = _temp.Combine("store");
        _source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(_source, "model.bin"), 200_000, 1);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_flipped_bit_in_a_heartbeat_is_named_by_push_and_check_and_take_over_gets_past_it()
    {
        await Cli.PushAsync(_source, _store, "r");
        const string key = "runs/r/heartbeats/0000000001";
        MetadataObjects.FlipBit(Path.Combine(_store, key));

        var check = await Cli.RunAsync("check", "--store", _store, "--read-data", "--quiet");
        var push = await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
        var takeOver = await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--take-over", "--quiet");
        var after = await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet");

        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains($"error: '{key}'", check.StdOut, StringComparison.Ordinal);
        Cli.AssertOneLineError(push, 4, key, "--take-over");
        Assert.True(takeOver.ExitCode == 0, takeOver.ToString());
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Equal(3, (await Cli.ListAsync(_store)).Count);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_flipped_bit_in_the_epoch_claim_of_a_released_lease_blocks_no_push_and_check_names_it()
    {
        await Cli.PushAsync(_source, _store, "r");
        const string key = "runs/r/epochs/0000000001";
        MetadataObjects.FlipBit(Path.Combine(_store, key));

        var push = await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains($"error: '{key}'", check.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_flipped_bit_in_the_epoch_claim_of_a_writer_without_heartbeat_needs_take_over()
    {
        await Cli.PushAsync(_source, _store, "r");
        File.Delete(Path.Combine(_store, "runs/r/heartbeats/0000000001"));
        const string key = "runs/r/epochs/0000000001";
        MetadataObjects.FlipBit(Path.Combine(_store, key));

        var push = await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
        var takeOver = await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--take-over", "--quiet");

        Cli.AssertOneLineError(push, 4, key, "--take-over");
        Assert.True(takeOver.ExitCode == 0, takeOver.ToString());
    }

    public void Dispose() => _temp.Dispose();
}
