using System.Text.Json;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary><c>baton status</c>: legs, newest committed step, age of the last durable checkpoint; and <c>--json</c>.</summary>
public sealed class StatusTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Status_shows_the_legs_the_newest_step_and_the_age_of_the_last_checkpoint()
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        await using (var run = SupervisedRun.Start(RunFixtures.Run(store, dir, [], RunFixtures.Python("tf", dir, "--steps", "10", "--step-ms", "10")), _temp.Path))
        {
            Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, run.Output);
        }

        var json = await BatonCli.RunAsync(["status", "--store", store, "--run", "r", "--json"]);
        var text = await BatonCli.RunAsync(["status", "--store", store, "--run", "r"]);

        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.StdOut);
        var root = document.RootElement;
        Assert.Equal(10, root.GetProperty("newestStep").GetInt64());
        Assert.True(root.GetProperty("lastCheckpointAgeSeconds").GetDouble() >= 0);
        var leg = Assert.Single(root.GetProperty("legs").EnumerateArray());
        Assert.Equal("ended", leg.GetProperty("state").GetString());
        Assert.Equal("finished", leg.GetProperty("endReason").GetString());
        Assert.Equal("tf", leg.GetProperty("format").GetString());
        Assert.True(leg.GetProperty("checkpointsPushed").GetInt32() >= 1);
        Assert.Contains("newest committed step: 10", text.StdOut, StringComparison.Ordinal);
        Assert.Contains("last durable checkpoint: ", text.StdOut, StringComparison.Ordinal);
        Assert.Contains("finished", text.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Status_of_a_run_that_does_not_exist_is_a_usage_error()
    {
        var store = _temp.Combine("store");
        Assert.Equal(0, (await BatonCli.RunAsync(["init", "--store", store])).ExitCode);

        var result = await BatonCli.RunAsync(["status", "--store", store, "--run", "nope"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("run 'nope' has no snapshots and no legs", result.StdErr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
