using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Baton.Journal;
using Baton.Maintenance;
using Baton.Repositories;
using Baton.Runs;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Supervision;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Supervision;

/// <summary>The supervisor in this process, with small shell trainers: restore, resume arguments, stop, restarts.</summary>
public sealed class SupervisorTests : IDisposable
{
    // Writes the next pattern checkpoint (ckpt-N.bin, N = files so far + 1) and notes how it was started.
    private const string WriteNext =
        "echo \"args:$*|restored:$BATON_RESTORED_STEP|resume:$BATON_RESUME_STEP|run:$BATON_RUN\" >> \"$LOG\"; " +
        "n=$(ls \"$BATON_CKPT_DIR\" | wc -l); printf 'weights' > \"$BATON_CKPT_DIR/ckpt-$((n + 1)).bin\"";

    private readonly TempDirectory _temp = new();
    private readonly RecordingLog _log = new();

    private string Store => _temp.Combine("store");

    private string Log => _temp.Combine("trainer.log");

    [Fact(Timeout = 60_000)]
    public async Task Resume_arguments_and_the_restored_step_reach_the_trainer_only_when_a_checkpoint_was_restored()
    {
        var first = await RunAsync(Options("machine-1", WriteNext));
        var second = await RunAsync(Options("machine-2", WriteNext));

        Assert.Equal((SupervisorOutcome.Finished, 1L), (first.Outcome, first.NewestStep!.Value));
        Assert.Equal((SupervisorOutcome.Finished, 2L), (second.Outcome, second.NewestStep!.Value));
        Assert.Equal(
            ["args:|restored:|resume:|run:r1", "args:--resume --from-checkpoint|restored:1|resume:1|run:r1"],
            File.ReadAllLines(Log));
        Assert.True(File.Exists(_temp.Combine("machine-2", "ckpt", "ckpt-1.bin")), "the snapshot was restored before launch");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stop_signal_is_forwarded_and_the_checkpoint_the_trainer_writes_on_it_is_pushed()
    {
        var script = "trap 'printf last > \"$BATON_CKPT_DIR/ckpt-9.bin\"; exit 0' TERM; echo ready >> \"$LOG\"; while :; do sleep 0.05; done";
        var signals = Channel.CreateUnbounded<int>();
        var run = RunAsync(Options("m", script), signals.Reader);
        await WaitForAsync(() => File.Exists(Log));

        await signals.Writer.WriteAsync(SignalNames.Term);
        var result = await run;

        Assert.Equal(SupervisorOutcome.Signaled, result.Outcome);
        Assert.Equal(9, result.NewestStep);
        Assert.Equal(0, result.LastExit?.Code);
        var leg = Assert.Single(await LegsAsync());
        Assert.Equal("signal SIGTERM", leg.EndReason);
        Assert.Equal(1, leg.CheckpointsPushed);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_trainer_that_always_fails_ends_as_a_crash_loop()
    {
        var result = await RunAsync(Options("m", "echo ran >> \"$LOG\"; exit 3") with
        {
            Restart = new RestartOptions { CrashLoopLimit = 3, InitialBackoff = TimeSpan.FromMilliseconds(10) },
        });

        Assert.Equal(SupervisorOutcome.CrashLoop, result.Outcome);
        Assert.Equal(3, File.ReadAllLines(Log).Length);
        var leg = Assert.Single(await LegsAsync());
        Assert.Equal((LegEndReasons.CrashLoop, 2), (leg.EndReason, leg.Restarts));
        Assert.All(leg.TrainerExits, e => Assert.Equal(3, e.Code));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_deadline_stops_the_trainer_ahead_of_time()
    {
        // The clock stands still until the trainer runs, then goes fast until the stop signal is sent: the deadline
        // cannot pass before the launch. Then it stands still again until the trainer has died of the signal, so its
        // grace period cannot run out first however slow the machine is; then it goes on until the supervisor ends.
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var script = "echo ready >> \"$LOG\"; while :; do sleep 0.05; done";
        var run = RunAsync(Options("m", script) with { Deadline = TimeSpan.FromMinutes(10), Grace = TimeSpan.FromSeconds(20), TimeProvider = clock });
        // The trainer may write its log before the supervisor has logged its start: wait for both.
        await WaitForAsync(() => File.Exists(Log) && _log.Lines.Any(l => l.Contains("started sh (pid ", StringComparison.Ordinal)));
        var trainer = int.Parse(Regex.Match(string.Join('\n', _log.Lines), @"started sh \(pid (\d+)\)").Groups[1].Value, CultureInfo.InvariantCulture);
        while (!run.IsCompleted && !_log.Lines.Any(l => l.StartsWith("sending SIGTERM", StringComparison.Ordinal)))
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5);
        }

        await WaitForAsync(() => IsDead(trainer), TimeSpan.FromSeconds(60));
        while (!run.IsCompleted)
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(5);
        }

        var result = await run;

        Assert.Equal(SupervisorOutcome.Deadline, result.Outcome);
        Assert.Equal(SignalNames.Term, result.LastExit?.Signal);
        Assert.Equal(LegEndReasons.Deadline, Assert.Single(await LegsAsync()).EndReason);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_checkpoint_the_trainer_deletes_while_it_is_being_pushed_is_still_committed()
    {
        // The trainer keeps only its last checkpoint: it deletes ckpt-1.bin once ckpt-2.bin is due. The push of step 1
        // is held just before it reads the files until that deletion has happened.
        var go = _temp.Combine("go");
        var ckpt = _temp.Combine("m", "ckpt");
        var script = $"printf 'the first checkpoint' > \"$BATON_CKPT_DIR/ckpt-1.bin\"; while [ ! -f '{go}' ]; do sleep 0.05; done; " +
            "rm \"$BATON_CKPT_DIR/ckpt-1.bin\"; printf 'the second' > \"$BATON_CKPT_DIR/ckpt-2.bin\"";
        await using var store = new HeldFirstPush(new FolderStore(Store), async () =>
        {
            File.WriteAllBytes(go, []);
            await WaitForAsync(() => !File.Exists(Path.Combine(ckpt, "ckpt-1.bin")));
        });

        var result = await Supervisor.RunAsync(store, Options("m", script), _log);

        Assert.Equal(SupervisorOutcome.Finished, result.Outcome);
        var repository = await Repository.OpenAsync(store);
        var snapshots = await repository.ListSnapshotsAsync("r1");
        Assert.Equal([1L, 2L], snapshots.Select(s => s.Manifest.Step!.Value));
        await repository.RestoreAsync(snapshots[0], _temp.Combine("restored"));
        Assert.Equal("the first checkpoint", File.ReadAllText(_temp.Combine("restored", "ckpt-1.bin")));
        Assert.False(Directory.Exists(CheckpointPin.RootFor(ckpt)), "the pinned links are removed after the push");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pointer_file_rewritten_in_place_by_the_next_save_does_not_abandon_the_push_and_names_its_own_step()
    {
        // DeepSpeed rewrites 'latest' in place at every save. The push of step 1 is held just before it reads the
        // files until the trainer has saved step 2 and pointed 'latest' at it: a push slower than the save interval.
        var go = _temp.Combine("go");
        var ckpt = _temp.Combine("m", "ckpt");
        var script = "mkdir -p \"$BATON_CKPT_DIR/global_step1\"; printf 'weights one' > \"$BATON_CKPT_DIR/global_step1/mp_rank_00_model_states.pt\"; " +
            $"printf global_step1 > \"$BATON_CKPT_DIR/latest\"; while [ ! -f '{go}' ]; do sleep 0.05; done; " +
            "mkdir -p \"$BATON_CKPT_DIR/global_step2\"; printf 'weights two' > \"$BATON_CKPT_DIR/global_step2/mp_rank_00_model_states.pt\"; " +
            "printf global_step2 > \"$BATON_CKPT_DIR/latest\"";
        await using var store = new HeldFirstPush(new FolderStore(Store), async () =>
        {
            File.WriteAllBytes(go, []);
            await WaitForAsync(() => File.Exists(Path.Combine(ckpt, "global_step2", "mp_rank_00_model_states.pt"))
                && File.ReadAllText(Path.Combine(ckpt, "latest")) == "global_step2");
        });

        var result = await Supervisor.RunAsync(store, Options("m", script) with { Format = "deepspeed" }, _log);

        Assert.Equal(SupervisorOutcome.Finished, result.Outcome);
        var repository = await Repository.OpenAsync(store);
        var snapshots = await repository.ListSnapshotsAsync("r1");
        Assert.True(snapshots.Select(s => s.Manifest.Step!.Value).SequenceEqual([1L, 2L]), string.Join('\n', _log.Lines));
        await repository.RestoreAsync(snapshots[0], _temp.Combine("restored"));
        Assert.Equal("global_step1", File.ReadAllText(_temp.Combine("restored", "latest")));
        Assert.Equal("weights one", File.ReadAllText(_temp.Combine("restored", "global_step1", "mp_rank_00_model_states.pt")));
        Assert.Equal("global_step2", File.ReadAllText(Path.Combine(ckpt, "latest")));
    }

    public void Dispose() => _temp.Dispose();

    private SupervisorOptions Options(string machine, string script) => new()
    {
        Run = "r1",
        Directory = _temp.Combine(machine, "ckpt"),
        Command = ["/bin/sh", "-c", script.Replace("\"$LOG\"", $"'{Log}'", StringComparison.Ordinal), "trainer"],
        ResumeArguments = ["--resume", "--from-checkpoint"],
        Format = "pattern:ckpt-{step}.bin",
        QuietPeriod = TimeSpan.FromMilliseconds(100),
        ScanInterval = TimeSpan.FromMilliseconds(200),
    };

    private async Task<SupervisorResult> RunAsync(SupervisorOptions options, ChannelReader<int>? signals = null)
    {
        await using var store = new FolderStore(Store);
        return await Supervisor.RunAsync(store, options, _log, signals);
    }

    private async Task<IReadOnlyList<Leg>> LegsAsync()
    {
        await using var store = new FolderStore(Store);
        return await new RunJournal(await Repository.OpenAsync(store), "r1").ListLegsAsync();
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan? limit = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < (limit ?? TimeSpan.FromSeconds(15)))
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }

    // Gone from /proc, or a zombie: it ran its last instruction.
    private static bool IsDead(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Runs a hook before the first push's in-flight marker is written, i.e. before the push reads any file.</summary>
    private sealed class HeldFirstPush(IObjectStore inner, Func<Task> hook) : ObjectStoreDecorator(inner)
    {
        private int _held;

        public override async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
        {
            if (key.StartsWith(InFlightMarker.Prefix, StringComparison.Ordinal) && Interlocked.Exchange(ref _held, 1) == 0)
            {
                await hook();
            }

            await base.PutAsync(key, data, mode, cancellationToken);
        }
    }
}
