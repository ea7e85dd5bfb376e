using System.Diagnostics;
using Baton.Testing;

namespace Baton.Tests;

public sealed class CrashTests : IDisposable
{
    private const int Files = 5;
    private const int FileSize = 20 << 20;
    private const int Kills = 12;
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 600_000)]
    public async Task A_push_killed_at_random_moments_leaves_the_store_healthy_and_the_next_push_restores_bit_identical()
    {
        var source = _temp.Combine("src");
        var store = _temp.Combine("store");
        for (var i = 0; i < Files; i++)
        {
            TestData.WriteRandomFile(Path.Combine(source, $"shard-{i}.bin"), FileSize, i);
        }

        await Cli.SucceedAsync("init", "--store", store);

        // A full push, timed, sets the range of the kill delays so that kills land in every phase of a push.
        var clock = Stopwatch.StartNew();
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--quiet");
        var fullPush = clock.Elapsed;
        var random = new Random(2024);
        var completed = 1;
        for (var kill = 0; kill < Kills; kill++)
        {
            // The next checkpoint: one shard rewritten, so that every push has new data to write.
            TestData.WriteRandomFile(Path.Combine(source, $"shard-{kill % Files}.bin"), FileSize, 100 + kill);
            // Half the kills count from the start (startup, scan, lease, index), half from the first chunk read (packing,
            // uploads, index, commit), so that a slow process start cannot absorb them all.
            var delay = TimeSpan.FromMilliseconds(random.NextDouble() * fullPush.TotalMilliseconds * (kill % 2 == 0 ? 0.8 : 0.5));
            if (await PushKilledAfterAsync(source, store, delay, fromFirstChunk: kill % 2 == 1))
            {
                completed++;
            }

            var check = await Cli.RunAsync("check", "--store", store, "--quiet");
            Assert.True(check.ExitCode == 0, $"after kill {kill} at {delay.TotalMilliseconds:0} ms: {check}");
            Assert.DoesNotContain("error:", check.StdOut, StringComparison.Ordinal);

            // Only committed snapshots are listed: at least every push that finished, in order. (Sequence numbers may
            // skip: the push after a killed one fences the dead writer's lease with a manifest of its own, not listed.)
            var listed = await Cli.ListAsync(store, "--run", "r");
            var sequences = listed.Select(s => s.GetProperty("sequence").GetInt64()).ToList();
            Assert.Equal(sequences.Order().Distinct(), sequences);
            Assert.InRange(listed.Count, completed, kill + 2);
        }

        Assert.True(completed - 1 < Kills, "every push finished before its kill: the kills tested nothing");

        var final = await Cli.RunAsync("push", source, "--store", store, "--run", "r", "--json");
        Assert.True(final.ExitCode == 0, final.ToString());
        var target = _temp.Combine("dst");
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--quiet");
        TestData.AssertSameTree(source, target);
        var finalId = JsonLines.Result(final.StdOut).GetProperty("id").GetString()!;
        Assert.Equal(finalId, (await Cli.ListAsync(store, "--run", "r"))[^1].GetProperty("id").GetString());
        var readData = await Cli.RunAsync("check", "--store", store, "--read-data", "--quiet");
        Assert.True(readData.ExitCode == 0, readData.ToString());
    }

    [Fact(Timeout = 180_000)]
    public async Task An_interrupted_push_exits_130_and_commits_nothing()
    {
        var source = _temp.Combine("src");
        var store = _temp.Combine("store");
        // Large enough (768 MB, seconds of work) that the interrupt sent after the first progress line lands mid-push
        // even when the test process is scheduled late on a busy machine.
        for (var i = 0; i < 8; i++)
        {
            TestData.WriteRandomFile(Path.Combine(source, $"shard-{i}.bin"), 96 << 20, i);
        }

        using var process = BatonCli.Start(["push", source, "--store", store, "--run", "r"]);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();

        // The first progress line comes after the first chunk: the push is under way, with most of it still to do.
        var firstLine = await process.StandardError.ReadLineAsync();
        Signals.Send(process.Id, Signals.SigInt);
        var rest = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await stdout;

        Assert.StartsWith("push", firstLine, StringComparison.Ordinal);
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {rest}");
        Assert.Contains("interrupted", rest, StringComparison.Ordinal);
        Assert.Empty(await Cli.ListAsync(store));
        Assert.Equal(0, (await Cli.RunAsync("check", "--store", store, "--quiet")).ExitCode);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_pull_killed_midway_leaves_the_previous_files_whole_and_the_next_pull_completes()
    {
        var source = _temp.Combine("src");
        var store = _temp.Combine("store");
        for (var i = 0; i < Files; i++)
        {
            TestData.WriteRandomFile(Path.Combine(source, $"shard-{i}.bin"), FileSize, i);
        }

        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--quiet");
        var target = _temp.Combine("dst");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "shard-0.bin"), "the previous checkpoint");

        using (var process = BatonCli.Start(["pull", target, "--store", store, "--run", "r", "--overwrite"]))
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            await process.StandardError.ReadLineAsync(); // the first progress line: chunks are being written
            Signals.Send(process.Id, Signals.SigKill);
            await process.WaitForExitAsync();
            await stdout;
        }

        // Files are moved into place only once all are verified: the old file is still the old file.
        Assert.Equal("the previous checkpoint", await File.ReadAllTextAsync(Path.Combine(target, "shard-0.bin")));
        Assert.Equal(["shard-0.bin"], Directory.EnumerateFiles(target).Select(Path.GetFileName));
        Assert.Single(Directory.EnumerateDirectories(_temp.Path, ".dst.baton-restore-*")); // staged beside the target
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--overwrite", "--quiet");
        TestData.AssertSameTree(source, target);
        Assert.Empty(Directory.EnumerateDirectories(_temp.Path, ".dst.baton-restore-*")); // the killed pull's staging is gone too
        await Cli.SucceedAsync("push", target, "--store", store, "--run", "again", "--quiet");
    }

    // Returns whether the push finished by itself before the kill.
    private static async Task<bool> PushKilledAfterAsync(string source, string store, TimeSpan delay, bool fromFirstChunk)
    {
        using var process = BatonCli.Start(["push", source, "--store", store, "--run", "r"]);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var firstLine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = Task.Run(async () =>
        {
            // Progress goes to stderr; its first line comes once the first chunk has been read.
            var first = await process.StandardError.ReadLineAsync();
            firstLine.TrySetResult();
            return first + "\n" + await process.StandardError.ReadToEndAsync();
        });
        var exited = process.WaitForExitAsync();
        if (fromFirstChunk)
        {
            await Task.WhenAny(exited, firstLine.Task);
        }

        if (await Task.WhenAny(exited, Task.Delay(delay)) != exited)
        {
            Signals.Send(process.Id, Signals.SigKill);
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(limit.Token);
        await stdout;
        var errors = await stderr;
        Assert.True(process.ExitCode is 0 or 137, $"push exited {process.ExitCode}: {errors}");
        return process.ExitCode == 0;
    }

    public void Dispose() => _temp.Dispose();
}
