using Baton.Testing;

namespace Baton.Tests;

public sealed class BasicCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task Version_prints_the_version_and_exits_zero()
    {
        var result = await BatonCli.RunAsync("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.StdOut.Trim());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_flag_is_a_usage_error_with_exit_2()
    {
        var result = await BatonCli.RunAsync("ls --no-such-flag");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--no-such-flag", result.StdErr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_store_scheme_is_a_usage_error_naming_the_scheme()
    {
        var result = await BatonCli.RunAsync(["ls", "--store", "ftp://example/x"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown store scheme 'ftp:'", result.StdErr, StringComparison.Ordinal);
        Assert.Single(result.ErrorLines);
    }

    [Fact(Timeout = 120_000)]
    public async Task Push_then_pull_round_trips_a_directory()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 5_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "nested", "deeper", "opt.bin"), 300_000, 2);
        File.WriteAllText(Path.Combine(source, "config.json"), "{}");
        var store = _temp.Combine("store");

        var push = await BatonCli.RunAsync(["push", source, "--store", store, "--run", "r1", "--step", "10"]);
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Matches("^[0-9a-f]{16}$", push.StdOut.Trim());

        var target = _temp.Combine("dst");
        var pull = await BatonCli.RunAsync(["pull", target, "--store", store, "--run", "r1"]);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        TestData.AssertSameTree(source, target);
    }

    public void Dispose() => _temp.Dispose();
}
