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

    [Fact(Timeout = 180_000)]
    public async Task A_killed_supervisor_on_this_machine_is_lost_at_once_and_its_lost_work_is_reached_minus_durable()
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("machine-1", "logs");
        await using (var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", "tf"], RunFixtures.DemoTrainer(dir, "--steps", "100000", "--every", "5", "--step-ms", "40")), _temp.Path))
        {
            await run.WaitForLineAsync(@"^baton: pushed step ([2-9]\d|\d{3,}):");
            // Kill the machine at a moment the trainer is known to be past the store: its leg says so.
            for (var attempt = 0; ; attempt++)
            {
                using var polled = JsonDocument.Parse((await BatonCli.RunAsync(["status", "--store", store, "--run", "r", "--json"])).StdOut);
                var reached = polled.RootElement.GetProperty("legs")[0].TryGetProperty("reachedStep", out var r) ? r.GetInt64() : 0;
                if (reached > polled.RootElement.GetProperty("newestStep").GetInt64() || attempt == 100)
                {
                    break;
                }
            }

            run.KillSupervisor();
            run.KillTrainer();
            await run.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        var json = await BatonCli.RunAsync(["status", "--store", store, "--run", "r", "--json"]);
        var text = await BatonCli.RunAsync(["status", "--store", store, "--run", "r"]);

        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.StdOut);
        var root = document.RootElement;
        var leg = Assert.Single(root.GetProperty("legs").EnumerateArray());
        // Its record is seconds old, but its supervisor's pid is gone from this very machine: lost, not running.
        Assert.Equal("lost", leg.GetProperty("state").GetString());
        var durable = root.GetProperty("newestStep").GetInt64();
        var reachedStep = leg.GetProperty("reachedStep").GetInt64();
        Assert.True(reachedStep >= durable, json.StdOut);
        var loss = Assert.Single(root.GetProperty("analysis").GetProperty("losses").EnumerateArray());
        Assert.Equal(durable, loss.GetProperty("durableStep").GetInt64());
        Assert.Equal(reachedStep - durable, loss.GetProperty("steps").GetInt64());
        Assert.True(loss.GetProperty("seconds").GetDouble() >= 0, json.StdOut);
        Assert.Contains($"work lost at preemptions: {reachedStep - durable} steps (", text.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Status_explains_the_sequence_number_a_take_over_fence_takes()
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("machine-1", "logs");
        var other = _temp.Combine("other");
        TestData.WriteRandomFile(Path.Combine(other, "w.bin"), 10_000, 1);
        await using (var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", "tf"], RunFixtures.DemoTrainer(dir, "--steps", "100000", "--every", "5", "--step-ms", "40")), _temp.Path))
        {
            await run.WaitForLineAsync(@"^baton: pushed step ");
            var taken = await BatonCli.RunAsync(["push", other, "--store", store, "--run", "r", "--step", "1000000", "--take-over", "--quiet"]);
            Assert.True(taken.ExitCode == 0, taken.ToString());
            await run.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        var text = await BatonCli.RunAsync(["status", "--store", store, "--run", "r"]);
        var ls = await BatonCli.RunAsync(["ls", "--store", store, "--run", "r", "--json"]);

        Assert.True(text.ExitCode == 0, text.ToString());
        using var listed = JsonDocument.Parse(ls.StdOut);
        var sequences = listed.RootElement.EnumerateArray().Select(s => s.GetProperty("sequence").GetInt64()).Order().ToList();
        Assert.True(sequences[^1] - sequences[0] + 1 > sequences.Count, ls.StdOut); // the fence's number is not listed
        Assert.Contains("fence: leg 1 on ", text.StdOut, StringComparison.Ordinal);
        Assert.Contains("sequence number(s) between the first and newest snapshot are not snapshots: fences written at take-overs", text.StdOut, StringComparison.Ordinal);
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
