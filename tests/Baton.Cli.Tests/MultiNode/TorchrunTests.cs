using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Baton.Testing;
using Baton.Tests.Guides;
using Baton.Tests.Run;

namespace Baton.Tests.MultiNode;

/// <summary>
/// The two-node command of docs/guides/torchrun.md on this host: two <c>baton run</c> around two <c>torchrun</c>
/// (static rendezvous, one gloo process each) training examples/multinode/ddp_train.py into node-local directories.
/// One node dies (SIGKILL to its baton and its trainers), the other's trainer fails with it, the whole job starts
/// again on fresh directories as a scheduler would; both nodes must resume from the same committed step, and after
/// the losses the final weights must be those of an uninterrupted run, bit for bit.
/// </summary>
public sealed partial class TorchrunTests : IDisposable
{
    private const int Steps = 60;
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(180);
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 900_000)]
    public async Task Two_nodes_that_lose_a_node_twice_resume_from_the_same_step_and_end_with_the_weights_of_an_uninterrupted_run()
    {
        var store = _temp.Combine("store");
        var reference = await DdpTrainer.UninterruptedAsync(_temp.Combine("reference"), Steps);
        var command = GuideScript.Block("torchrun.md", "--node-rank $NODE_RANK")
            .Replace("s3://my-bucket/runs", store)
            .Replace("--format dcp", "--format dcp --quiet-period 1s")
            .Replace("/scratch/ckpt", "$NODE_DIR")
            .Replace("-- torchrun ", "-- torchrun --redirects 1:0 --tee 1:0 ")   // Debian's torch 1.13 on Python 3.11
            .Replace("--nproc_per_node 8", "--nproc_per_node 1")
            .Replace("--master_port 29500", "--master_port $MASTER_PORT")
            .Replace("train.py --ckpt-dir $NODE_DIR", $"'{DdpTrainer.Script}' --dir $NODE_DIR --steps {Steps} --every 5 --step-ms 150 --out $OUT");

        var committedBefore = 0L;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
            var nodes = Enumerable.Range(0, 2).Select(rank => new NodeProcess(command.Start(_temp.Combine($"attempt-{attempt}", $"node-{rank}"), new Dictionary<string, string>
            {
                ["NODE_RANK"] = rank.ToString(CultureInfo.InvariantCulture),
                ["JOB_ATTEMPT"] = $"job.{attempt}",
                ["MASTER_ADDR"] = "127.0.0.1",
                ["MASTER_PORT"] = port,
                ["NODE_DIR"] = _temp.Combine($"attempt-{attempt}", $"node-{rank}", "ckpt"),   // fresh: node-local disks of new machines
                ["OUT"] = _temp.Combine($"final-{attempt}.bin"),
                ["TMPDIR"] = _temp.Path, // torchelastic's own temporary folders go with the test's
            }), rank)).ToList();
            try
            {
                // Both nodes start from the same committed step, at least the newest one committed before the loss, and
                // each holds exactly that step (restored from the store into its fresh directory).
                var starts = new List<long>();
                foreach (var node in nodes)
                {
                    var resumed = await WaitForAsync(node, nodes, ResumedLine());
                    Assert.True(resumed.Groups["from"].Value == resumed.Groups["here"].Value, $"attempt {attempt}, node {node.Rank}: {resumed.Value}\n{node.Output}");
                    starts.Add(long.Parse(resumed.Groups["from"].Value, CultureInfo.InvariantCulture));
                }

                Assert.True(starts.Distinct().Count() == 1 && starts[0] >= committedBefore, $"attempt {attempt}: nodes start from steps {string.Join(", ", starts)}; committed before: {committedBefore}");
                Assert.True(starts[0] == 0 || (await RunFixtures.SnapshotsAsync(store, "gpt-small")).Any(s => s.Manifest.Step == starts[0]));
                committedBefore = starts[0];

                if (attempt < 2)
                {
                    // A loss after the group committed a new step: node 1 first, then node 0 (which hosts the rendezvous).
                    await WaitUntilAsync(async () => await NewestStepAsync(store) >= committedBefore + 10, nodes);
                    var lost = nodes[1 - attempt];
                    var survivor = nodes[attempt];
                    await lost.SignalTreeAsync(Signals.SigKill, TimeSpan.FromSeconds(60));

                    // The survivor's collectives fail with the lost peer (its torchrun then waits up to 5 minutes at its exit
                    // barrier for the lost agent); the scheduler stops what is left of the job.
                    await WaitForAsync(survivor, [survivor], WorkerFailed());
                    await survivor.SignalTreeAsync(Signals.SigTerm, TimeSpan.FromSeconds(120));
                    committedBefore = await NewestStepAsync(store);
                    Assert.True(committedBefore > 0, survivor.Output);
                }
                else
                {
                    foreach (var node in nodes)
                    {
                        Assert.True(await node.WaitForExitAsync(Phase) == 0, node.Output);
                    }

                    Assert.Equal(reference, File.ReadAllBytes(_temp.Combine($"final-{attempt}.bin")));
                    Assert.Equal(Steps, await NewestStepAsync(store));
                }
            }
            finally
            {
                nodes.ForEach(n => n.Dispose());
            }
        }
    }

    public void Dispose() => _temp.Dispose();

    private static async Task<Match> WaitForAsync(NodeProcess node, List<NodeProcess> nodes, Regex pattern)
    {
        Match? match = null;
        await WaitUntilAsync(() => Task.FromResult((match = pattern.Match(node.Output)).Success), nodes);
        return match!;
    }

    // Polls, failing when a node exits first or the phase runs out.
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, List<NodeProcess> nodes)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (nodes.FirstOrDefault(n => n.HasExited) is { } exited || clock.Elapsed > Phase)
            {
                throw new TimeoutException($"before the awaited moment: {string.Join("\n", nodes.Select(n => $"--- node {n.Rank} ({(n.HasExited ? $"exited {n.ExitCode}" : "running")})\n{n.Output}"))}");
            }

            await Task.Delay(200);
        }
    }

    private static async Task<long> NewestStepAsync(string store)
    {
        try
        {
            return (await RunFixtures.SnapshotsAsync(store, "gpt-small")).Select(s => s.Manifest.Step ?? 0).DefaultIfEmpty(0).Max();
        }
        catch (BatonException)
        {
            return 0;  // before the first push there is no repository to read
        }
    }

    [GeneratedRegex(@"multiprocessing\.api:failed \(exitcode|^baton: trainer (exit code|killed by)", RegexOptions.Multiline)]
    private static partial Regex WorkerFailed();

    private static Regex ResumedLine() => DdpTrainer.StartLine();
}
