using System.Globalization;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// <c>baton run</c> pushes on threads that lowered their own priority, read back from /proc of the real supervisor
/// process, while the trainer it started keeps the normal priority.
/// </summary>
public sealed class PushPriorityTests : IDisposable
{
    private const int SchedOther = 0;
    private const int SchedIdle = 5;

    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task By_default_the_push_runs_on_threads_at_nice_10_and_the_trainer_at_nice_0()
    {
        var (threads, trainer) = await PushOnceAsync([]);

        Assert.NotEmpty(threads);
        Assert.All(threads, t => Assert.Equal((10, SchedOther), (t.Nice, t.Policy)));
        // The push's work ran on them, not on the shared pool: hashing and compressing 48 MiB takes CPU time.
        Assert.True(threads.Sum(t => t.CpuTicks) > 0, string.Join("; ", threads));
        Assert.Equal((0, SchedOther), (trainer.Nice, trainer.Policy));
    }

    [Fact(Timeout = 180_000)]
    public async Task Idle_priority_runs_the_push_under_sched_idle_at_nice_19()
    {
        var (threads, trainer) = await PushOnceAsync(["--push-priority", "idle"]);

        Assert.NotEmpty(threads);
        Assert.All(threads, t => Assert.Equal((19, SchedIdle), (t.Nice, t.Policy)));
        Assert.True(threads.Sum(t => t.CpuTicks) > 0, string.Join("; ", threads));
        Assert.Equal((0, SchedOther), (trainer.Nice, trainer.Policy));
    }

    [Fact(Timeout = 180_000)]
    public async Task Normal_priority_lowers_no_thread()
    {
        var (threads, _) = await PushOnceAsync(["--push-priority", "normal"]);

        Assert.Empty(threads);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_priority_is_a_usage_error()
    {
        var result = await BatonCli.RunAsync(RunFixtures.Run(_temp.Combine("store"), _temp.Combine("d"), ["--push-priority", "lowest"], ["sh", "-c", "exit 0"]));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--push-priority 'lowest' is not low, idle or normal", result.StdErr, StringComparison.Ordinal);
    }

    // Runs a trainer that writes one 48 MiB checkpoint and waits; once the push is committed, reads the supervisor's
    // push threads and the trainer from /proc, then lets the trainer finish.
    private async Task<(List<ThreadState> PushThreads, ThreadState Trainer)> PushOnceAsync(string[] options)
    {
        var store = _temp.Combine("store-" + Guid.NewGuid().ToString("N"));
        var dir = _temp.Combine("ckpt-" + Guid.NewGuid().ToString("N"));
        var go = _temp.Combine("go-" + Guid.NewGuid().ToString("N"));
        var script = $"mkdir -p '{dir}' && head -c 48M /dev/urandom > '{dir}/tmp' && mv '{dir}/tmp' '{dir}/ckpt-1.bin' && while [ ! -e '{go}' ]; do sleep 0.1; done";
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", "pattern:ckpt-{step}.bin", .. options], ["sh", "-c", script]), _temp.Path);

        await run.WaitForLineAsync("^baton: pushed ", timeout: TimeSpan.FromSeconds(120));
        var threads = Directory.GetDirectories($"/proc/{run.Pid}/task").Select(ThreadState.Read)
            .Where(t => t is { Name: "baton-push" }).Select(t => t!).ToList();
        var trainer = ThreadState.Read($"/proc/{run.TrainerPids[^1]}") ?? throw new InvalidOperationException("the trainer is gone\n" + run.Output);
        await File.WriteAllTextAsync(go, "");
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, run.Output);
        return (threads, trainer);
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>A thread's (or process's) name, nice value, scheduling policy and CPU time from its /proc stat.</summary>
    private sealed record ThreadState(string Name, int Nice, int Policy, long CpuTicks)
    {
        public static ThreadState? Read(string directory)
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var name = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
                // Fields after the parenthesised name, from field 3 (state) on: utime is 14, stime 15, nice 19, policy 41.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
                return new ThreadState(name, (int)Field(19), (int)Field(41), Field(14) + Field(15));
            }
            catch (IOException)
            {
                return null;
            }
        }
    }
}
