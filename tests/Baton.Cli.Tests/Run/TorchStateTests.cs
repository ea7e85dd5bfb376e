using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// A real PyTorch trainer (Debian's /usr/bin/python3 with python3-torch) under <c>baton run</c>, checkpointing the way
/// most scripts do: <c>last.pt</c> rewritten in place every epoch, <c>best.pt</c> when validation improves. A snapshot
/// must hold both (a resume needs both), and a <c>last.pt</c> rewritten faster than it settles must still become
/// durable during training, never torn.
/// </summary>
public sealed class TorchStateTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static string Script => Path.Combine(AppContext.BaseDirectory, "Trainers", "torch_trainer.py");

    [Fact(Timeout = 240_000)]
    public async Task After_a_machine_loss_the_snapshot_holds_last_and_best_and_the_trainer_resumes_from_both()
    {
        var store = _temp.Combine("store");
        var first = _temp.Combine("machine-1");
        await using (var run = Start(store, first, epochs: 400, epochMs: 300))
        {
            var saved = await run.WaitForLineAsync("^epoch 6 saved$", timeout: TimeSpan.FromSeconds(120));
            await run.WaitForLineAsync("^baton: pushed ", from: saved, timeout: TimeSpan.FromSeconds(60));
            run.KillSupervisor();
            run.KillTrainer();
            await run.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        var newest = (await RunFixtures.SnapshotsAsync(store))[^1];
        Assert.Equal(["best.pt", "last.pt"], newest.Manifest.Entries.Select(e => e.Path).Order(StringComparer.Ordinal));
        var restored = await RunFixtures.RestoreEachAsync(store, _temp.Combine("verify"));
        var held = await PythonAsync("check", restored[^1].Directory);
        Assert.True(held.ExitCode == 0, held.Output);
        var match = System.Text.RegularExpressions.Regex.Match(held.Output, @"last (\d+) best (\d+)");

        await using var second = Start(store, _temp.Combine("machine-2"), epochs: 3, epochMs: 10);
        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, second.Output);
        Assert.Contains($"resumed from epoch {match.Groups[1].Value} (best epoch {match.Groups[2].Value})", second.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_last_pt_rewritten_every_half_second_becomes_durable_during_training_and_every_snapshot_loads()
    {
        var store = _temp.Combine("store");
        // Settling takes a second here (the quiet period is 2 s); last.pt is rewritten every half second, so only its
        // zip trailer can say when a copy of it is whole.
        await using var run = Start(store, _temp.Combine("machine"), epochs: 40, epochMs: 500, bestUntil: 0, quiet: "2s", numel: 1_000_000);

        var limit = System.Diagnostics.Stopwatch.StartNew();
        while (await CountSnapshotsAsync(store) < 2)
        {
            Assert.DoesNotContain("done: epoch", run.Output, StringComparison.Ordinal);
            Assert.True(limit.Elapsed < TimeSpan.FromSeconds(120), run.Output);
            await Task.Delay(100);
        }

        Assert.DoesNotContain("done: epoch", run.Output, StringComparison.Ordinal);
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, run.Output);
        var restored = await RunFixtures.RestoreEachAsync(store, _temp.Combine("verify"), "r");
        var check = await PythonAsync(["check", .. restored.Select(r => r.Directory)]);
        Assert.True(check.ExitCode == 0, check.Output + "\n" + run.Output);
        Assert.Equal(restored.Count, check.Output.Split('\n').Count(l => l.StartsWith("last ", StringComparison.Ordinal)));
    }

    public void Dispose() => _temp.Dispose();

    private SupervisedRun Start(string store, string machine, int epochs, int epochMs, int bestUntil = 3, string quiet = "150ms", int numel = 100_000)
    {
        var dir = Path.Combine(machine, "ckpt");
        return SupervisedRun.Start(
            ["run", "--store", store, "--run", "r", "--dir", dir, "--format", "auto", "--quiet-period", quiet, "--scan-interval", "300ms",
             "--backoff", "100ms", "--resume-args=--resume", "--",
             "/usr/bin/python3", Script, "train", "--dir", dir, "--epochs", $"{epochs}", "--epoch-ms", $"{epochMs}", "--best-until", $"{bestUntil}", "--numel", $"{numel}"],
            _temp.Path);
    }

    // The store is created by the first push; until then it holds no snapshots.
    private static async Task<int> CountSnapshotsAsync(string store) =>
        File.Exists(Path.Combine(store, "config")) ? (await RunFixtures.SnapshotsAsync(store)).Count : 0;

    private static async Task<(int ExitCode, string Output)> PythonAsync(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
