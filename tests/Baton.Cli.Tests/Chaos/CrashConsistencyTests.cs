using System.Diagnostics;
using System.Text.Json;
using Baton.Testing;

namespace Baton.Tests.Chaos;

/// <summary>
/// Kills push, pull and prune with SIGKILL at many random moments (seeded, bounded) and checks after each kill that
/// the repository is healthy, the newest committed snapshot restores bit-identical, and the next operation succeeds.
/// </summary>
public sealed class CrashConsistencyTests : IDisposable
{
    private const int Kills = 50;
    private readonly TempDirectory _temp = new();
    private readonly string _store;

    public CrashConsistencyTests()
    {
        _store = _temp.Combine("store");
    }

    [Fact(Timeout = 900_000)]
    public async Task Pushes_killed_at_random_moments_never_leave_a_partial_snapshot()
    {
        var random = new Random(20261127);
        var source = _temp.Combine("ckpt");
        var duration = await TimeAsync(() => PushAsync(source, seed: 0));
        for (var kill = 1; kill <= Kills; kill++)
        {
            WriteCheckpoint(source, seed: kill);
            await KillAtRandomAsync(["push", source, "--store", _store, "--run", "r", "--step", $"{kill}", "--quiet"], duration, random);
            if (kill % 5 == 0)
            {
                await AssertHealthyAsync(readData: kill % 25 == 0);
                await AssertNewestRestoresAsync(expectedSource: null);
            }
        }

        // Everything committed restores exactly, and the next push works.
        await AssertNewestRestoresAsync(expectedSource: null);
        Assert.Equal(0, (await PushAsync(source, seed: 99)).ExitCode);
        await AssertNewestRestoresAsync(source);
    }

    [Fact(Timeout = 900_000)]
    public async Task Pulls_killed_at_random_moments_never_leave_a_file_that_looks_complete_but_is_not()
    {
        var random = new Random(7);
        var source = _temp.Combine("ckpt");
        Assert.Equal(0, (await PushAsync(source, seed: 1)).ExitCode);
        var target = _temp.Combine("target");
        var duration = await TimeAsync(() => BatonCli.RunAsync(["pull", _temp.Combine("timing"), "--store", _store, "--run", "r", "--quiet"]));
        for (var kill = 1; kill <= Kills; kill++)
        {
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            await KillAtRandomAsync(["pull", target, "--store", _store, "--run", "r", "--quiet"], duration, random);
            foreach (var file in Directory.Exists(target) ? Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories) : [])
            {
                var relative = Path.GetRelativePath(target, file);
                if (!relative.StartsWith(".baton-", StringComparison.Ordinal))
                {
                    Assert.True(TestData.FilesEqual(Path.Combine(source, relative), file), $"kill {kill}: '{relative}' is in place but differs");
                }
            }
        }

        Assert.Equal(0, (await BatonCli.RunAsync(["pull", target, "--store", _store, "--run", "r", "--overwrite", "--quiet"])).ExitCode);
        TestData.AssertSameTree(source, target);
        Assert.Empty(Directory.EnumerateDirectories(target, ".baton-*"));
    }

    [Fact(Timeout = 900_000)]
    public async Task Prunes_killed_at_random_moments_leave_the_store_healthy()
    {
        var random = new Random(99);
        var source = _temp.Combine("ckpt");
        Assert.Equal(0, (await PushAsync(source, seed: 1)).ExitCode);
        Assert.Equal(0, (await PushAsync(source, seed: 2)).ExitCode);
        var duration = await TimeAsync(() => BatonCli.RunAsync(["prune", "--store", _store, "--run", "r", "--keep-last", "1"]));
        for (var kill = 1; kill <= Kills; kill++)
        {
            Assert.Equal(0, (await PushAsync(source, seed: 100 + kill)).ExitCode);
            await KillAtRandomAsync(["prune", "--store", _store, "--run", "r", "--keep-last", "1"], duration, random);
            if (kill % 5 == 0)
            {
                await AssertHealthyAsync(readData: kill % 25 == 0);
                await AssertNewestRestoresAsync(source);
            }
        }

        var prune = await BatonCli.RunAsync(["prune", "--store", _store, "--run", "r", "--keep-last", "1"]);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        var check = await BatonCli.RunAsync(["check", "--store", _store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.DoesNotContain("warning", check.StdOut, StringComparison.Ordinal);
    }

    // A checkpoint of a few files, different for each seed, with a copy kept under copies/SEED for comparison. The
    // vocabulary changes every third seed only, so pruning leaves packs that hold little but it: prunes repack them.
    private void WriteCheckpoint(string directory, int seed)
    {
        TestData.WriteRandomFile(Path.Combine(directory, "model.bin"), 3_000_000, seed);
        TestData.WriteRandomFile(Path.Combine(directory, "optimizer.bin"), 1_500_000, seed + 10_000);
        TestData.WriteRandomFile(Path.Combine(directory, "vocab.bin"), 200_000, 50_000 + (seed / 3));
        File.WriteAllText(Path.Combine(directory, "step.json"), $"{{\"seed\": {seed}}}");
        CopyTree(directory, _temp.Combine("copies", $"{seed}"));
    }

    private Task<CliResult> PushAsync(string source, int seed)
    {
        WriteCheckpoint(source, seed);
        return BatonCli.RunAsync(["push", source, "--store", _store, "--run", "r", "--step", $"{1000 + seed}", "--quiet"]);
    }

    private static async Task<TimeSpan> TimeAsync(Func<Task<CliResult>> operation)
    {
        var clock = Stopwatch.StartNew();
        var result = await operation();
        Assert.True(result.ExitCode == 0, result.ToString());
        return clock.Elapsed;
    }

    private static async Task KillAtRandomAsync(string[] args, TimeSpan typical, Random random)
    {
        using var process = BatonCli.Start(args);
        process.StandardInput.Close();
        var drainOut = process.StandardOutput.ReadToEndAsync();
        var drainErr = process.StandardError.ReadToEndAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(random.NextDouble() * typical.TotalMilliseconds * 1.2));
        Signals.Send(process.Id, Signals.SigKill);
        await process.WaitForExitAsync();
        await Task.WhenAll(drainOut, drainErr);
    }

    private async Task AssertHealthyAsync(bool readData)
    {
        var check = await BatonCli.RunAsync(readData ? ["check", "--store", _store, "--read-data"] : ["check", "--store", _store]);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    private async Task<List<long>> StepsAsync()
    {
        var ls = await BatonCli.RunAsync(["ls", "--store", _store, "--run", "r", "--json"]);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        return JsonDocument.Parse(ls.StdOut).RootElement.EnumerateArray().Select(e => e.GetProperty("step").GetInt64()).ToList();
    }

    private async Task AssertNewestRestoresAsync(string? expectedSource)
    {
        var target = _temp.Combine("verify-" + Guid.NewGuid().ToString("N")[..8]);
        var pull = await BatonCli.RunAsync(["pull", target, "--store", _store, "--run", "r", "--quiet"]);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        if (expectedSource is not null)
        {
            TestData.AssertSameTree(expectedSource, target);
        }
        else
        {
            var step = (await StepsAsync())[^1]; // ls lists oldest first: this is the newest commit
            TestData.AssertSameTree(_temp.Combine("copies", $"{(step >= 1000 ? step - 1000 : step)}"), target);
        }

        Directory.Delete(target, recursive: true);
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }

    public void Dispose() => _temp.Dispose();
}
