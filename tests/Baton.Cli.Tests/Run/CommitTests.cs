using System.Globalization;
using System.Text.RegularExpressions;
using Baton.Testing;
using Xunit.Abstractions;

namespace Baton.Tests.Run;

/// <summary>
/// Commit records: a real trainer says exactly when a checkpoint is complete (through <c>baton commit</c>, or by
/// writing the record itself) faster than any quiet period; every record is pushed or superseded, each snapshot is
/// byte-identical to what its record named, and a file changed after its commit is never committed.
/// </summary>
public sealed partial class CommitTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 240_000)]
    public async Task A_shell_trainer_committing_with_baton_commit_gets_each_commit_pushed_or_superseded_byte_identical()
    {
        var (store, dir, expected) = (_temp.Combine("store"), _temp.Combine("ckpt"), _temp.Combine("expected"));
        const string script = """
            set -e
            for i in $(seq 1 8); do
              head -c $((70000 + i)) /dev/urandom > "$BATON_COMMIT_DIR/model.bin"
              head -c 3000 /dev/urandom > "$BATON_COMMIT_DIR/opt.bin"
              mkdir -p "$EXPECTED/$i" && cp "$BATON_COMMIT_DIR/model.bin" "$BATON_COMMIT_DIR/opt.bin" "$EXPECTED/$i/"
              dotnet "$BATON_DLL" commit --step "$i" "$BATON_COMMIT_DIR/model.bin" "$BATON_COMMIT_DIR/opt.bin"
            done
            echo trainer done
            """;
        await using var run = SupervisedRun.Start(RunArgs(store, dir, ["sh", "-c", script]), _temp.Path,
            new Dictionary<string, string?> { ["EXPECTED"] = expected, ["BATON_DLL"] = BatonCli.DllPath });

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(200)) == 0, run.Output);

        await AssertEachSnapshotIsItsCommitAsync(store, expected, lastStep: 8, run.Output);
        AssertLatencies(run.Output);

        // A fresh machine restores the committed step and the trainer is told to resume from it; nothing is pushed again.
        var second = await BatonCli.RunAsync(RunArgs(store, _temp.Combine("machine-2"), ["sh", "-c", "echo \"resume=$BATON_RESUME_STEP\"; cat \"$BATON_COMMIT_DIR/model.bin\" | wc -c"]));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("resume=8", second.StdOut, StringComparison.Ordinal);
        Assert.Contains("resuming from step 8", second.StdErr, StringComparison.Ordinal);
        Assert.Single(await RunFixtures.SnapshotsAsync(store), s => s.Manifest.Step == 8);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_python_trainer_writing_its_own_records_every_50ms_gets_each_commit_pushed_or_superseded_byte_identical()
    {
        var (store, dir, expected) = (_temp.Combine("store"), _temp.Combine("ckpt"), _temp.Combine("expected"));
        string[] trainer = ["python3", Path.Combine(AppContext.BaseDirectory, "Trainers", "commit_trainer.py"), "--dir", dir, "--expected", expected, "--steps", "40", "--every-ms", "50"];
        await using var run = SupervisedRun.Start(RunArgs(store, dir, trainer), _temp.Path);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(200)) == 0, run.Output);

        await AssertEachSnapshotIsItsCommitAsync(store, expected, lastStep: 40, run.Output);
        AssertLatencies(run.Output);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_file_changed_after_its_commit_fails_that_push_and_is_never_committed()
    {
        var (store, dir, expected) = (_temp.Combine("store"), _temp.Combine("ckpt"), _temp.Combine("expected"));
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "model.bin"), new byte[100]);
        var committed = await BatonCli.RunAsync(["commit", "--dir", dir, "--step", "7", Path.Combine(dir, "model.bin")]);
        Assert.True(committed.ExitCode == 0, committed.ToString());
        File.WriteAllBytes(Path.Combine(dir, "model.bin"), new byte[150]); // rewritten after its commit

        const string script = """
            set -e
            sleep 1
            head -c 5000 /dev/urandom > "$BATON_COMMIT_DIR/model.bin"
            mkdir -p "$EXPECTED/8" && cp "$BATON_COMMIT_DIR/model.bin" "$EXPECTED/8/"
            dotnet "$BATON_DLL" commit --step 8 "$BATON_COMMIT_DIR/model.bin"
            """;
        await using var run = SupervisedRun.Start(RunArgs(store, dir, ["sh", "-c", script]), _temp.Path,
            new Dictionary<string, string?> { ["EXPECTED"] = expected, ["BATON_DLL"] = BatonCli.DllPath });

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(100)) == 0, run.Output);
        Assert.Contains("step 7 changed while it was being pushed", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(await RunFixtures.SnapshotsAsync(store), s => s.Manifest.Step == 7);
        await AssertEachSnapshotIsItsCommitAsync(store, expected, lastStep: 8, run.Output);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("a missing file", new[] { "--step", "3", "CKPT/nope.bin" }, "does not exist")]
    [InlineData("a file outside the directory", new[] { "--step", "3", "OUTSIDE" }, "is outside the checkpoint directory")]
    [InlineData("a negative step", new[] { "--step=-3", "CKPT/model.bin" }, "is negative")]
    public async Task Baton_commit_refuses_bad_input_with_one_line_and_exit_2(string what, string[] args, string message)
    {
        var dir = _temp.Combine("ckpt");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "model.bin"), "weights");
        File.WriteAllText(_temp.Combine("outside.bin"), "elsewhere");
        var resolved = args.Select(a => a.Replace("CKPT", dir, StringComparison.Ordinal).Replace("OUTSIDE", _temp.Combine("outside.bin"), StringComparison.Ordinal));

        var result = await BatonCli.RunAsync(["commit", "--dir", dir, .. resolved]);

        Assert.True(result.ExitCode == 2, $"{what}: {result}");
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir, ".baton", "commits")) && Directory.EnumerateFiles(Path.Combine(dir, ".baton", "commits")).Any(), what);
    }

    public void Dispose() => _temp.Dispose();

    // The quiet period is far longer than the whole run: only the commit records can make these checkpoints durable.
    private static string[] RunArgs(string store, string dir, string[] trainer) =>
        ["run", "--store", store, "--run", "r", "--dir", dir, "--quiet-period", "60s", "--scan-interval", "2s", "--backoff", "100ms", "--", .. trainer];

    private static async Task AssertEachSnapshotIsItsCommitAsync(string store, string expected, long lastStep, string log)
    {
        var restored = await RunFixtures.RestoreEachAsync(store, Path.Combine(expected, "..", "verify"));
        Assert.True(restored.Count >= 1 && restored[^1].Step == lastStep, log);
        foreach (var (directory, step) in restored)
        {
            var want = Path.Combine(expected, step.ToString(CultureInfo.InvariantCulture));
            var names = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).Order(StringComparer.Ordinal);
            Assert.Equal(Directory.EnumerateFiles(want).Select(Path.GetFileName).Order(StringComparer.Ordinal), names);
            foreach (var name in names)
            {
                Assert.True(File.ReadAllBytes(Path.Combine(want, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(directory, name))), $"step {step}: {name} differs\n{log}");
            }
        }

        // Every record was pushed or superseded by a pushed one, and removed.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(Path.GetDirectoryName(expected)!, "ckpt", ".baton", "commits"), "step-*"));
    }

    // Each push started after its record appeared; the figures go to the test output (no test asserts a time).
    private void AssertLatencies(string log)
    {
        var latencies = Latency().Matches(log).Select(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(latencies);
        Assert.All(latencies, l => Assert.True(l >= 0, $"a push started {l} ms before its record appeared"));
        latencies.Sort();
        output.WriteLine($"commit record to push start: {latencies.Count} pushes, median {latencies[latencies.Count / 2]:0.0} ms, max {latencies[^1]:0.0} ms");
    }

    [GeneratedRegex(@"push of step (\d+) starts (-?[\d.]+) ms after its commit record appeared")]
    private static partial Regex Latency();
}
