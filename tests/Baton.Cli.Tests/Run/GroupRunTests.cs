using System.Globalization;
using System.Text.RegularExpressions;
using Baton.Repositories;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// Multi-node runs, simulated with four real <c>baton run</c> processes on one folder store, each supervising a real
/// Python trainer for one node: a step is visible only when every node's part is in, and all nodes of an attempt
/// start from the same step, or none starts.
/// </summary>
public sealed partial class GroupRunTests : IAsyncDisposable
{
    private const int Nodes = 4;
    private static readonly TimeSpan Exit = TimeSpan.FromSeconds(200);
    private readonly TempDirectory _temp = new();
    private readonly List<SupervisedRun> _runs = [];

    private string Store => _temp.Combine("store");

    [Fact(Timeout = 400_000)]
    public async Task Four_nodes_commit_each_step_together_and_the_next_attempt_resumes_every_node_from_it()
    {
        var first = Start("job.1", Enumerable.Range(0, Nodes), ["--steps", "3"]);
        await AssertAllExitAsync(first, 0);

        var snapshots = await RunFixtures.SnapshotsAsync(Store, "g");
        Assert.Equal(3, snapshots[^1].Manifest.Step);
        Assert.All(snapshots, AssertWholeGroup);
        await AssertCheckPassesAsync();

        // The legs of the four nodes ran side by side: each ended, none is taken for lost, and each names its node.
        var status = await BatonCli.RunAsync(["status", "--store", Store, "--run", "g", "--json"]);
        Assert.True(status.ExitCode == 0, status.ToString());
        var legs = System.Text.Json.JsonDocument.Parse(status.StdOut).RootElement.GetProperty("legs").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, Nodes), legs.Select(l => l.GetProperty("nodeRank").GetInt32()).Order());
        Assert.All(legs, l => Assert.Equal(("ended", "job.1", 4), (l.GetProperty("state").GetString(), l.GetProperty("groupId").GetString(), l.GetProperty("nodes").GetInt32())));
        var table = await BatonCli.RunAsync(["status", "--store", Store, "--run", "g"]);
        Assert.Matches(@"NODE\s+ATTEMPT", table.StdOut);

        // The independent reader, written from docs/FORMAT.md, restores node 1's part as node 1 held it.
        var read = await Format.PythonReader.RunAsync("restore", Store, "g", _temp.Combine("read-1"), "--node", "1");
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.Equal(File.ReadAllBytes(Path.Combine(Dir(1), "model.bin")), File.ReadAllBytes(_temp.Combine("read-1", "model.bin")));

        // Node 2 holds a newer checkpoint of its own that the group never committed: it must not start from it.
        WriteLocalCheckpoint(Dir(2), step: 9);
        var second = Start("job.2", Enumerable.Range(0, Nodes), ["--steps", "2"]);
        await AssertAllExitAsync(second, 0);

        Assert.All(second, run => Assert.Equal("3", ResumedLine(run)));
        Assert.True(File.Exists(Path.Combine(Dir(2), ".baton-previous", "model.bin")), "node 2's own step 9 was kept aside");
        Assert.Equal(5, (await RunFixtures.SnapshotsAsync(Store, "g"))[^1].Manifest.Step);
        await AssertCheckPassesAsync();
    }

    [Fact(Timeout = 400_000)]
    public async Task A_node_killed_mid_run_never_lets_a_step_it_missed_become_visible_and_the_next_attempt_starts_all_from_one_step()
    {
        var first = Start("job.1", Enumerable.Range(0, Nodes), ["--steps", "40", "--every-ms", "250"]);
        await first[3].WaitForLineAsync("node 3 committed step 4", timeout: Exit);
        await WaitForSnapshotAsync();
        first[3].KillTrainer();
        first[3].KillSupervisor();
        var reached = StepsCommittedBy(first[3]).DefaultIfEmpty(0).Max();

        foreach (var run in first.Take(3))
        {
            Assert.True(await run.WaitForExitAsync(Exit) == 0, run.Output);
        }

        var visible = await RunFixtures.SnapshotsAsync(Store, "g");
        Assert.NotEmpty(visible);
        Assert.All(visible, s => Assert.True(s.Manifest.Step <= reached, $"step {s.Manifest.Step} is visible, and node 3 never got past step {reached}"));
        Assert.All(visible, AssertWholeGroup);
        await AssertCheckPassesAsync();

        // The requeued job (a new attempt) waits out node 3's lease and starts every node from the newest whole step,
        // though nodes 0-2 hold newer checkpoints of their own.
        var second = Start("job.2", Enumerable.Range(0, Nodes), ["--steps", "1"]);
        await AssertAllExitAsync(second, 0);
        var resumed = second.Select(ResumedLine).Distinct().ToList();
        Assert.Equal([visible[^1].Manifest.Step!.Value.ToString(CultureInfo.InvariantCulture)], resumed);
        await AssertCheckPassesAsync();
    }

    [Fact(Timeout = 300_000)]
    public async Task A_node_that_never_starts_keeps_every_node_from_starting_with_exit_7()
    {
        var runs = Start("job.1", [0, 1, 3], ["--steps", "3"], "--barrier-timeout", "3s");

        foreach (var run in runs)
        {
            Assert.True(await run.WaitForExitAsync(Exit) == 7, run.Output);
            Assert.Empty(run.TrainerPids);
            Assert.Contains("missing: node 2", run.Lines[^1], StringComparison.Ordinal);
            Assert.Contains("none starts", run.Lines[^1], StringComparison.Ordinal);
        }

        Assert.Empty(await RunFixtures.SnapshotsAsync(Store, "g"));

        // Node 2 arriving late finds the attempt given up: it does not start alone either.
        var late = Start("job.1", [2], ["--steps", "3"], "--barrier-timeout", "3s");
        Assert.True(await late[0].WaitForExitAsync(Exit) == 7, late[0].Output);
        Assert.Empty(late[0].TrainerPids);
    }

    [Fact(Timeout = 400_000)]
    public async Task A_straggler_holds_each_step_back_until_its_part_is_in()
    {
        var fast = Start("job.1", [0, 1, 2], ["--steps", "3", "--every-ms", "100"]);
        var slow = Start("job.1", [3], ["--steps", "3", "--every-ms", "100", "--delay-ms", "3000"]);

        foreach (var run in fast)
        {
            Assert.True(await run.WaitForExitAsync(Exit) == 0, run.Output);
        }

        // The fast nodes are done; nothing the straggler has not written may be visible.
        var straggled = StepsCommittedBy(slow[0]).DefaultIfEmpty(0).Max();
        Assert.All(await RunFixtures.SnapshotsAsync(Store, "g"), s => Assert.True(s.Manifest.Step <= straggled, $"step {s.Manifest.Step} is visible before node 3 wrote it"));

        Assert.True(await slow[0].WaitForExitAsync(Exit) == 0, slow[0].Output);
        var last = (await RunFixtures.SnapshotsAsync(Store, "g"))[^1];
        Assert.Equal(3, last.Manifest.Step);
        AssertWholeGroup(last);
        await AssertCheckPassesAsync();
    }

    [Fact(Timeout = 400_000)]
    public async Task The_shared_directory_layout_pushes_each_file_once_and_every_node_resumes_from_the_tree_node_0_restored()
    {
        var sync = _temp.Combine("sync");
        Directory.CreateDirectory(sync);
        var shared = _temp.Combine("shared");
        var first = Start("job.1", Enumerable.Range(0, Nodes), ["--steps", "3", "--sync", sync], "--shared-dir", "--dir", shared);
        await AssertAllExitAsync(first, 0);

        var last = (await RunFixtures.SnapshotsAsync(Store, "g"))[^1];
        Assert.Equal(3, last.Manifest.Step);
        Assert.Equal("shared", last.Manifest.Group?.Layout);
        Assert.Equal(Enumerable.Range(0, Nodes).Select(r => $"model-rank-{r}.bin"), last.Manifest.Entries.Where(e => e.Kind == EntryKind.File).Select(e => e.Path));
        // Each file of the committed step left exactly one node.
        var pushed = first.SelectMany(r => r.Lines).Select(l => PartLine().Match(l)).Where(m => m.Success && m.Groups[2].Value == "3")
            .Sum(m => int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
        Assert.Equal(Nodes, pushed);
        await AssertCheckPassesAsync();

        // The next attempt on a fresh shared directory: node 0 restores the tree, every node resumes from step 3.
        var fresh = _temp.Combine("shared-2");
        Directory.Delete(sync, recursive: true);
        Directory.CreateDirectory(sync);
        var second = Start("job.2", Enumerable.Range(0, Nodes), ["--steps", "1", "--sync", sync], "--shared-dir", "--dir", fresh);
        await AssertAllExitAsync(second, 0);
        Assert.Equal(["3"], second.Select(ResumedLine).Distinct());
        Assert.Contains(second[0].Lines, l => l.Contains("restored node 0's part of step 3", StringComparison.Ordinal));
        Assert.DoesNotContain(second.Skip(1).SelectMany(r => r.Lines), l => l.Contains("restored", StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task More_than_one_node_without_a_group_id_is_refused_with_exit_2_and_config_names_each_source()
    {
        var result = await BatonCli.RunAsync(["run", "--store", Store, "--run", "g", "--dir", Dir(0), "--nodes", "4", "--node-rank", "1", "--", "true"]);
        Cli.AssertOneLineError(result, 2, "--group-id");
        Assert.False(Directory.Exists(Store));

        var config = await BatonCli.RunAsync(["config"], _temp.Path, new Dictionary<string, string?>
        {
            ["SLURM_NNODES"] = "4", ["SLURM_NODEID"] = "2", ["SLURM_JOB_ID"] = "8812", ["SLURM_RESTART_COUNT"] = "1",
        });
        Assert.True(config.ExitCode == 0, config.ToString());
        Assert.Matches(@"nodes\s+4\s+SLURM_NNODES", config.StdOut);
        Assert.Matches(@"node_rank\s+2\s+SLURM_NODEID", config.StdOut);
        Assert.Matches(@"group_id\s+8812\.1\s+SLURM_JOB_ID\.SLURM_RESTART_COUNT", config.StdOut);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _runs)
        {
            await run.DisposeAsync();
        }

        _temp.Dispose();
    }

    private string Dir(int rank) => _temp.Combine($"node-{rank}");

    private List<SupervisedRun> Start(string group, IEnumerable<int> ranks, string[] trainer, params string[] options)
    {
        var runs = new List<SupervisedRun>();
        foreach (var rank in ranks)
        {
            var directory = options.Contains("--dir") ? [] : new[] { "--dir", Dir(rank) };
            var barrier = options.Contains("--barrier-timeout") ? [] : new[] { "--barrier-timeout", "120s" };
            string[] args =
            [
                "run", "--store", Store, "--run", "g", .. directory, "--nodes", Nodes.ToString(CultureInfo.InvariantCulture),
                "--node-rank", rank.ToString(CultureInfo.InvariantCulture), "--group-id", group, .. barrier,
                "--quiet-period", "60s", "--scan-interval", "1s", .. options,
                "--", "python3", Path.Combine(AppContext.BaseDirectory, "Trainers", "group_trainer.py"), .. trainer,
            ];
            var run = SupervisedRun.Start(args, _temp.Path);
            _runs.Add(run);
            runs.Add(run);
        }

        return runs;
    }

    private static async Task AssertAllExitAsync(List<SupervisedRun> runs, int code)
    {
        foreach (var run in runs)
        {
            Assert.True(await run.WaitForExitAsync(Exit) == code, run.Output);
        }
    }

    private async Task WaitForSnapshotAsync()
    {
        for (var i = 0; i < 600 && (await RunFixtures.SnapshotsAsync(Store, "g")).Count == 0; i++)
        {
            await Task.Delay(200);
        }
    }

    private async Task AssertCheckPassesAsync()
    {
        var check = await BatonCli.RunAsync(["check", "--store", Store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    // Every node's part is in a committed snapshot: its model under node-R/, holding the snapshot's own step.
    private static void AssertWholeGroup(Snapshot snapshot)
    {
        Assert.Equal(Nodes, snapshot.Manifest.Group?.Nodes);
        var files = snapshot.Manifest.Entries.Where(e => e.Kind == EntryKind.File).Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        Assert.All(Enumerable.Range(0, Nodes), r => Assert.Contains($"node-{r}/model.bin", files));
    }

    private static string ResumedLine(SupervisedRun run) =>
        run.Lines.Select(l => ResumedFrom().Match(l)).First(m => m.Success).Groups[1].Value;

    private static IEnumerable<long> StepsCommittedBy(SupervisedRun run) =>
        run.Lines.Select(l => TrainerCommitted().Match(l)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    private static void WriteLocalCheckpoint(string directory, long step)
    {
        File.WriteAllText(Path.Combine(directory, "model.bin"), $"node's own step {step}");
        File.WriteAllText(Path.Combine(directory, "latest"), step.ToString(CultureInfo.InvariantCulture));
        var commits = Path.Combine(directory, ".baton", "commits");
        Directory.CreateDirectory(commits);
        File.WriteAllText(Path.Combine(commits, $"step-{step:D20}.json"), $$"""{ "version": 1, "step": {{step}}, "time": "2026-12-04T10:00:00Z", "files": [ { "path": "model.bin", "size": {{new FileInfo(Path.Combine(directory, "model.bin")).Length}} }, { "path": "latest", "size": {{new FileInfo(Path.Combine(directory, "latest")).Length}} } ] }""");
    }

    [GeneratedRegex(@"^node \d+ resuming from step (\d+)$")]
    private static partial Regex ResumedFrom();

    [GeneratedRegex(@"^node \d+ committed step (\d+)$")]
    private static partial Regex TrainerCommitted();

    [GeneratedRegex(@"pushed node (\d+)'s part of step (\d+)\b.*?, (\d+) files,")]
    private static partial Regex PartLine();
}
