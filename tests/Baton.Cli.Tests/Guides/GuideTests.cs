using System.Diagnostics;
using Baton.Testing;
using Baton.Tests.Run;

namespace Baton.Tests.Guides;

/// <summary>
/// The commands of docs/guides, run as the guides print them. Only what cannot exist here is replaced: the Drive
/// folder, bucket or shared file system becomes a local folder store, the dataset's address a loopback HTTP server,
/// the user's trainer the test trainer (tests/Baton.Cli.Tests/Trainers/layouts.py) writing the same layout.
/// </summary>
public sealed class GuideTests : IDisposable
{
    private static readonly TimeSpan Session = TimeSpan.FromSeconds(150);
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 600_000)]
    public async Task The_colab_cell_stages_the_data_and_a_new_session_resumes_where_the_last_one_ended()
    {
        await using var http = new HttpTestServer();
        var eye = new byte[300_000];
        new Random(7).NextBytes(eye);
        http.Serve("/eye.npz", eye);
        var store = Mounted(_temp.Combine("drive", "MyDrive"), "baton");
        var dataUrl = "https://storage.googleapis.com/quickdraw_dataset/sketchrnn/eye.npz";
        var cell = GuideScript.Block("colab.md", "baton run")
            .Replace("/content/drive/MyDrive/baton", store)
            .Replace(dataUrl, http.Url("/eye.npz"))
            .Replace("\"--resume_training\"", "\"--resume\"")
            .Replace("sketch_rnn_train --log_root=logs --data_dir=. --hparams=\"data_set=[eye.npz],num_steps=100001\"",
                Trainer("tf", "logs"));

        var first = await cell.RunAsync(_temp.Combine("session-1"), Environment("20"), Session);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(eye, File.ReadAllBytes(_temp.Combine("session-1", "eye.npz")));
        Assert.Contains("training from scratch", first.StdOut, StringComparison.Ordinal);

        var second = await cell.RunAsync(_temp.Combine("session-2"), Environment("30"), Session);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("resumed at step 20", second.StdOut, StringComparison.Ordinal);
        Assert.Equal(eye, File.ReadAllBytes(_temp.Combine("session-2", "eye.npz")));
        var snapshots = await RunFixtures.SnapshotsAsync(store, "sketch-eye");
        Assert.Equal(30, snapshots[^1].Manifest.Step);
        Assert.InRange(snapshots.Count, 1, 3);  // --keep-last 3

        var look = GuideScript.Block("colab.md", "baton report").Replace("/content/drive/MyDrive/baton", store);
        var shown = await look.RunAsync(_temp.Combine("session-2"), Environment("0"), Session);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("<svg", File.ReadAllText(_temp.Combine("session-2", "report.html")), StringComparison.Ordinal);

        // The same, with the settings in baton.toml and a cell of just "baton run -- <trainer>".
        var toml = GuideScript.FencedBlock("colab.md", "toml", "store =");
        Assert.Contains("\"--resume_training\"", toml, StringComparison.Ordinal);
        var third = _temp.Combine("session-3");
        Directory.CreateDirectory(third);
        File.WriteAllText(Path.Combine(third, "baton.toml"), toml
            .Replace("/content/drive/MyDrive/baton", store, StringComparison.Ordinal)
            .Replace(dataUrl, http.Url("/eye.npz"), StringComparison.Ordinal)
            .Replace("\"--resume_training\"", "\"--resume\"", StringComparison.Ordinal));
        var fromToml = await BatonCli.RunAsync(["run", "--", .. RunFixtures.Python("tf", "logs", "--steps", "40", "--every", "5", "--step-ms", "20")],
            third, timeout: Session);
        Assert.True(fromToml.ExitCode == 0, fromToml.ToString());
        Assert.Contains("resumed at step 30", fromToml.StdOut, StringComparison.Ordinal);
        Assert.Equal(eye, File.ReadAllBytes(Path.Combine(third, "eye.npz")));
        Assert.Equal(40, (await RunFixtures.SnapshotsAsync(store, "sketch-eye"))[^1].Manifest.Step);
    }

    [Fact(Timeout = 600_000)]
    public async Task The_slurm_job_stops_with_a_durable_checkpoint_on_its_signal_and_the_requeued_job_resumes()
    {
        var store = Mounted(_temp.Combine("shared"), "baton");
        var job = GuideScript.Block("slurm.md", "--run resnet50")
            .Replace("/shared/baton", store)
            .Replace("python train.py --ckpt-dir $SLURM_TMPDIR/ckpt", Trainer("torch", "$SLURM_TMPDIR/ckpt", every: 200) + " --checkpoint-on-term");

        // SLURM's --signal=B:TERM: the batch shell, which exec made baton, gets SIGTERM ahead of the limit.
        using var running = job.Start(_temp.Combine("node-1"), Environment("100000", _temp.Combine("node-1", "tmp")));
        var output = Collect(running);
        await WaitUntilAsync(async () => await CountSnapshotsAsync(store, "resnet50") > 0, running, output);
        Signals.Send(running.Id, Signals.SigTerm);
        using (var limit = new CancellationTokenSource(Session))
        {
            await running.WaitForExitAsync(limit.Token);
        }

        Assert.True(running.ExitCode == 143, output.ToString());
        var stoppedAt = (await RunFixtures.SnapshotsAsync(store, "resnet50"))[^1].Manifest.Step!.Value;
        Assert.Contains($"stopping at step {stoppedAt} after a last checkpoint", output.ToString(), StringComparison.Ordinal);

        // The requeued job, on another node with an empty scratch folder.
        var requeued = await job.RunAsync(_temp.Combine("node-2"), Environment($"{stoppedAt + 10}", _temp.Combine("node-2", "tmp"), resume: true), Session);
        Assert.True(requeued.ExitCode == 0, requeued.ToString());
        Assert.Contains($"resumed at step {stoppedAt}", requeued.StdOut, StringComparison.Ordinal);
        Assert.Equal(stoppedAt + 10, (await RunFixtures.SnapshotsAsync(store, "resnet50"))[^1].Manifest.Step);
    }

    [Fact(Timeout = 600_000)]
    public async Task The_spot_vm_command_commits_the_last_checkpoint_on_a_notice_and_the_replacement_vm_resumes()
    {
        var preempted = false;
        await using var gce = new LoopbackHttpServer(r =>
            r.Url!.AbsolutePath.EndsWith("/instance/preempted", StringComparison.Ordinal) && r.Headers["Metadata-Flavor"] == "Google"
                ? new HttpReply(200, Volatile.Read(ref preempted) ? "TRUE" : "FALSE")
                : new HttpReply(404));
        var closed = $"http://127.0.0.1:{FreePort.Next()}/";
        var store = Mounted(_temp.Combine("bucket"), "runs");
        var command = GuideScript.Block("spot-vms.md", "--preemption auto")
            .Replace("gs://my-bucket/runs", store)
            .Replace("python train.py --ckpt-dir ckpt", Trainer("torch", "ckpt", every: 200) + " --checkpoint-on-term");
        var clouds = new Dictionary<string, string>
        {
            ["BATON_GCE_METADATA_URL"] = new Uri(gce.BaseAddress, "computeMetadata/v1").ToString(),
            ["BATON_AWS_METADATA_URL"] = closed,
            ["BATON_AZURE_METADATA_URL"] = closed,
        };

        using var vm = command.Start(_temp.Combine("vm-1"), With(Environment("100000"), clouds));
        var output = Collect(vm);
        await WaitUntilAsync(() => Task.FromResult(output.Contains("watching gce preemption notices")), vm, output);
        await WaitUntilAsync(() => Task.FromResult(output.Contains("\nstep 15\n")), vm, output);
        Volatile.Write(ref preempted, true);
        using (var limit = new CancellationTokenSource(Session))
        {
            await vm.WaitForExitAsync(limit.Token);
        }

        Assert.True(vm.ExitCode == 75, output.ToString());
        var last = (await RunFixtures.SnapshotsAsync(store, "llm-7b"))[^1].Manifest.Step!.Value;
        Assert.True(last >= 15, output.ToString());

        Volatile.Write(ref preempted, false);
        var replacement = await command.RunAsync(_temp.Combine("vm-2"), With(Environment($"{last + 5}", resume: true), clouds), Session);
        Assert.True(replacement.ExitCode == 0, replacement.ToString());
        Assert.Contains($"resumed at step {last}", replacement.StdOut, StringComparison.Ordinal);
        Assert.Equal(last + 5, (await RunFixtures.SnapshotsAsync(store, "llm-7b"))[^1].Manifest.Step);
    }

    public void Dispose() => _temp.Dispose();

    // The store's parent stands for a mounted drive or file system: Baton refuses to write where the mount is missing.
    private static string Mounted(string mount, string folder)
    {
        Directory.CreateDirectory(mount);
        return Path.Combine(mount, folder);
    }

    // The test trainer as a shell command line. Its step count comes from $STEPS, and $RESUME is "--resume" where a
    // real trainer would find the restored checkpoint in its folder by itself. Layouts without a completeness marker
    // are pushed once unchanged for --quiet-period (5 s by default): checkpoint every 8 s, as a real trainer would
    // rather every few minutes.
    private static string Trainer(string layout, string directory, int every = 5) =>
        $"python3 '{RunFixtures.Script}' train --layout {layout} --dir {directory} --steps $STEPS --every {every} --step-ms 40 --size 65536 $RESUME";

    private Dictionary<string, string> Environment(string steps, string? slurmTmp = null, bool resume = false)
    {
        var environment = new Dictionary<string, string>
        {
            ["STEPS"] = steps,
            ["RESUME"] = resume ? "--resume" : "",
            ["BATON_STAGE_CACHE"] = _temp.Combine("stage-cache"),
        };
        if (slurmTmp is not null)
        {
            Directory.CreateDirectory(slurmTmp);
            environment["SLURM_TMPDIR"] = slurmTmp;
        }

        return environment;
    }

    private static Dictionary<string, string> With(Dictionary<string, string> environment, Dictionary<string, string> more)
    {
        foreach (var (name, value) in more)
        {
            environment[name] = value;
        }

        return environment;
    }

    private static ProcessOutput Collect(Process process)
    {
        var output = new ProcessOutput();
        process.OutputDataReceived += (_, e) => output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => output.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Process process, ProcessOutput output)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (process.HasExited || clock.Elapsed > Session)
            {
                throw new TimeoutException($"the guide's command {(process.HasExited ? $"exited with {process.ExitCode}" : "is still running")} before the awaited moment:\n{output}");
            }

            await Task.Delay(50);
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

    /// <summary>The lines a process printed so far, on both streams.</summary>
    private sealed class ProcessOutput
    {
        private readonly System.Text.StringBuilder _text = new();

        public void Add(string? line)
        {
            if (line is not null)
            {
                lock (_text)
                {
                    _text.Append(line).Append('\n');
                }
            }
        }

        public bool Contains(string text) => ToString().Contains(text, StringComparison.Ordinal);

        public override string ToString()
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }
}
