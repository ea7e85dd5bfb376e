using System.Diagnostics;
using System.Globalization;
using Baton.Testing;
using Baton.Tests.Guides;
using Baton.Tests.Run;

namespace Baton.Tests.MultiNode;

/// <summary>
/// The job scripts of docs/guides/slurm.md on a real SLURM cluster on this host (<see cref="SlurmCluster"/>),
/// requeued in the middle with <c>scontrol requeue</c>: SLURM sends SIGTERM to every process of the job, then runs
/// the script again with <c>SLURM_RESTART_COUNT</c> raised.
/// </summary>
public sealed class SlurmRequeueTests
{
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(180);

    [Fact(Timeout = 600_000)]
    public async Task A_requeued_one_node_job_pushes_its_last_checkpoint_and_the_rerun_resumes_from_it()
    {
        await using var cluster = await SlurmCluster.StartAsync(nodes: 1);
        var store = cluster.Combine("shared", "baton");
        Directory.CreateDirectory(cluster.Combine("shared"));

        // The cluster's node-local scratch, fresh for each run of the script; the step target of each run from a file
        // the test writes, and --resume once there is something to resume (a real trainer finds its checkpoint).
        var scratch = cluster.Combine("scratch");
        var script = GuideScript.Block("slurm.md", "--run resnet50")
            .Replace("/shared/baton", store)
            .Replace("exec baton run", string.Join('\n',
                $"export SLURM_TMPDIR={scratch}-${{SLURM_RESTART_COUNT:-0}}",
                $"export STEPS=$(cat {cluster.Combine("steps")}-${{SLURM_RESTART_COUNT:-0}})",
                "export RESUME=$([ \"${SLURM_RESTART_COUNT:-0}\" -gt 0 ] && echo --resume)",
                "exec baton run"))
            .Replace("python train.py --ckpt-dir $SLURM_TMPDIR/ckpt",
                $"python3 '{RunFixtures.Script}' train --layout torch --dir $SLURM_TMPDIR/ckpt --steps $STEPS --every 200 --step-ms 40 --size 65536 $RESUME --checkpoint-on-term")
            .WriteScript(cluster.Combine("job.sh"));
        File.WriteAllText(cluster.Combine("steps") + "-0", "100000");
        var output = cluster.Combine("job.out");

        var job = await cluster.SubmitAsync(script, JobEnvironment(), "--open-mode=append", $"--output={output}");
        await WaitAsync(cluster, job, async () => await CountSnapshotsAsync(store, "resnet50") > 0, output);

        Assert.Equal(0, (await cluster.RunAsync("scontrol", "requeue", Id(job))).ExitCode);
        await cluster.WaitForJobStateAsync(job, Phase, "PENDING");
        var stoppedAt = (await RunFixtures.SnapshotsAsync(store, "resnet50"))[^1].Manifest.Step!.Value;
        var first = File.ReadAllText(output);
        Assert.Contains($"stopping at step {stoppedAt} after a last checkpoint", first, StringComparison.Ordinal);
        Assert.Contains($"baton: stopped by SIGTERM; newest durable checkpoint: step {stoppedAt}", first, StringComparison.Ordinal);
        Assert.DoesNotContain("restarting in", first, StringComparison.Ordinal);

        // SLURM holds a requeued job for about two minutes (BeginTime); start it now.
        File.WriteAllText(cluster.Combine("steps") + "-1", (stoppedAt + 10).ToString(CultureInfo.InvariantCulture));
        await StartNowAsync(cluster, job);
        var state = await cluster.WaitForJobStateAsync(job, Phase, "COMPLETED", "FAILED", "CANCELLED", "NODE_FAIL");
        var all = File.ReadAllText(output);
        Assert.True(state == "COMPLETED", all + cluster.Logs());

        Assert.Equal("1", (await cluster.ShowJobAsync(job))["Restarts"]);
        Assert.Contains($"resumed at step {stoppedAt}", all[first.Length..], StringComparison.Ordinal);
        Assert.Equal(stoppedAt + 10, (await RunFixtures.SnapshotsAsync(store, "resnet50"))[^1].Manifest.Step);
    }

    [Fact(Timeout = 900_000)]
    public async Task A_requeued_two_node_job_resumes_on_both_nodes_from_the_same_step_and_ends_like_an_uninterrupted_one()
    {
        const int steps = 60;
        await using var cluster = await SlurmCluster.StartAsync(nodes: 2);
        var reference = await DdpTrainer.UninterruptedAsync(cluster.Combine("reference"), steps);
        var store = cluster.Combine("shared", "baton");
        Directory.CreateDirectory(cluster.Combine("shared"));
        var final = cluster.Combine("final.bin");

        // Here every node is this host: node-local scratch is a folder per job attempt and node, the first node's
        // address is loopback (SLURM's node names n1, n2 are not host names), and the port is free.
        var script = GuideScript.Block("slurm.md", "#SBATCH --nodes=2")
            .Replace("/shared/baton", store)
            .Replace("$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)", "127.0.0.1")
            .Replace("$SLURM_TMPDIR/ckpt", cluster.Combine("scratch") + "/$SLURM_JOB_ID.${SLURM_RESTART_COUNT:-0}/$SLURMD_NODENAME/ckpt")
            .Replace("--format dcp", "--format dcp --quiet-period 1s")
            .Replace("-- torchrun ", "-- torchrun --redirects 1:0 --tee 1:0 ")   // Debian's torch 1.13 on Python 3.11
            .Replace("--nproc_per_node 8", "--nproc_per_node 1")
            .Replace("--master_port 29500", $"--master_port {FreePort.Next()}")
            .Replace("train.py --ckpt-dir", $"{DdpTrainer.Script} --steps {steps} --every 5 --step-ms 150 --out {final} --dir")
            .WriteScript(cluster.Combine("job.sh"));
        var output = cluster.Combine("job.out");

        var job = await cluster.SubmitAsync(script, JobEnvironment(), $"--output={output}");
        await WaitAsync(cluster, job, async () => await NewestStepAsync(store, "llama-ft") >= 10, output);

        Assert.Equal(0, (await cluster.RunAsync("scontrol", "requeue", Id(job))).ExitCode);
        await cluster.WaitForJobStateAsync(job, Phase, "PENDING");
        var committed = await NewestStepAsync(store, "llama-ft");
        var first = File.ReadAllText(output);
        Assert.DoesNotContain("restarting in", first, StringComparison.Ordinal);

        await StartNowAsync(cluster, job);
        var state = await cluster.WaitForJobStateAsync(job, Phase, "COMPLETED", "FAILED", "CANCELLED", "NODE_FAIL");
        var all = File.ReadAllText(output);
        Assert.True(state == "COMPLETED", all + cluster.Logs());

        // The rerun: both ranks start from one step, at least the newest the first run committed, each holding it.
        var starts = DdpTrainer.StartLine().Matches(all[first.Length..]).ToList();
        Assert.True(starts.Count == 2, all);
        Assert.All(starts, s => Assert.Equal(s.Groups["from"].Value, s.Groups["here"].Value));
        Assert.Equal(starts[0].Groups["from"].Value, starts[1].Groups["from"].Value);
        Assert.True(long.Parse(starts[0].Groups["from"].Value, CultureInfo.InvariantCulture) is var from && from >= committed && from > 0, all);
        Assert.Equal("1", (await cluster.ShowJobAsync(job))["Restarts"]);
        Assert.Equal(reference, File.ReadAllBytes(final));
        Assert.Equal(steps, await NewestStepAsync(store, "llama-ft"));
    }

    private static async Task<long> NewestStepAsync(string store, string run)
    {
        try
        {
            return (await RunFixtures.SnapshotsAsync(store, run)).Select(s => s.Manifest.Step ?? 0).DefaultIfEmpty(0).Max();
        }
        catch (BatonException)
        {
            return 0;  // before the first push there is no repository to read
        }
    }

    private static string Id(int job) => job.ToString(CultureInfo.InvariantCulture);

    // The job gets this process's environment with baton on the PATH.
    // A requeue revokes the job's credential; slurmd compares credential times in whole seconds, so a rerun
    // launched within the second of the revocation is refused ("Job credential revoked") and the job FAILS. The
    // rerun is released two seconds after the requeue was seen, past that second whatever the clock's phase.
    private static async Task StartNowAsync(SlurmCluster cluster, int job)
    {
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(0, (await cluster.RunAsync("scontrol", "update", $"jobid={job}", "starttime=now")).ExitCode);
    }

    private static Dictionary<string, string> JobEnvironment() => new()
    {
        ["PATH"] = GuideScript.BatonOnPath() + ":" + Environment.GetEnvironmentVariable("PATH"),
    };

    private static async Task WaitAsync(SlurmCluster cluster, int job, Func<Task<bool>> condition, string output)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            var state = (await cluster.ShowJobAsync(job)).GetValueOrDefault("JobState", "(gone)");
            if (state is not ("PENDING" or "RUNNING" or "CONFIGURING") || clock.Elapsed > Phase)
            {
                throw new TimeoutException($"job {job} is {state} after {clock.Elapsed.TotalSeconds:0} s, before the awaited moment:\n" +
                    (File.Exists(output) ? File.ReadAllText(output) : "(no output)") + cluster.Logs());
            }

            await Task.Delay(250);
        }
    }

    // Before the first push there is no repository to read.
    private static async Task<int> CountSnapshotsAsync(string store, string run)
    {
        try
        {
            return (await RunFixtures.SnapshotsAsync(store, run)).Count;
        }
        catch (BatonException)
        {
            return 0;
        }
    }
}
