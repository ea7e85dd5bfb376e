using Baton.Supervision;
using Baton.Testing;

namespace Baton.Tests.Supervision;

/// <summary>The stop sequence on real process groups: shells that start shells, with real signals.</summary>
public sealed class StopSequenceTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly RecordingLog _log = new();

    [Fact(Timeout = 60_000)]
    public async Task The_grace_period_waits_for_the_whole_group_not_only_for_the_wrapper()
    {
        // The wrapper dies of SIGTERM at once; its child takes a moment to save, then exits by itself.
        var saved = _temp.Combine("saved");
        var child = Start($"sh -c 'trap \"sleep 1; echo done > {saved}; exit 0\" TERM; echo > {_temp.Combine("ready")}; while :; do sleep 0.05; done'; echo unreachable");
        await WaitForAsync(() => File.Exists(_temp.Combine("ready")));

        var pushed = new List<(ChildExit Exit, bool Trusted)>();
        var result = await Sequence(child, TimeSpan.FromMinutes(2)).RunAsync(false, () => false, (e, b) =>
        {
            pushed.Add((e, b));
            return Task.CompletedTask;
        }, CancellationToken.None);

        Assert.True(File.Exists(saved), "the wrapper's child was killed before it saved");
        Assert.False(result.Killed);
        Assert.True(result.Trusted, "the wrapper's child outlived it and exited by itself");
        Assert.Equal(SignalNames.Term, result.Exit.Signal);
        Assert.Equal((result.Exit, true), Assert.Single(pushed));
        Assert.Empty(child.GroupMembers());
    }

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_wrapper_child_that_handles_the_stop_signal_is_trusted_however_fast_it_exits_and_one_without_a_handler_is_not(bool handles)
    {
        // Debian's /usr/bin/python3 behind a shell that does not exec it; with a handler it saves and exits at once,
        // well within the time between two looks at the group (it used to be missed, and its save thrown away).
        var ready = _temp.Combine("ready");
        var handler = handles ? "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); " : "";
        for (var attempt = 0; attempt < 5; attempt++)
        {
            File.Delete(ready);
            var child = Start($"/usr/bin/python3 -c \"{handler}import time; open('{ready}', 'w').close(); time.sleep(600)\"; echo unreachable");
            await WaitForAsync(() => File.Exists(ready));

            var result = await Sequence(child, TimeSpan.FromMinutes(1)).RunAsync(false, () => false, (_, _) => Task.CompletedTask, CancellationToken.None);

            Assert.Equal(SignalNames.Term, result.Exit.Signal);
            Assert.False(result.Killed);
            Assert.Equal(handles, result.Trusted);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task What_a_trainer_killed_by_the_stop_signal_itself_wrote_is_not_trusted()
    {
        // Debian's /usr/bin/python3 with no handler for SIGTERM: it dies of it, possibly in the middle of a write.
        var ready = _temp.Combine("ready");
        var child = ChildProcess.Start("/usr/bin/python3", ["python3", "-c", $"import time; open('{ready}', 'w').close(); time.sleep(600)"],
            ChildProcess.EnvironmentWith(new Dictionary<string, string>()));
        await WaitForAsync(() => File.Exists(ready));

        var result = await Sequence(child, TimeSpan.FromMinutes(1)).RunAsync(false, () => false, (_, _) => Task.CompletedTask, CancellationToken.None);

        Assert.Equal(SignalNames.Term, result.Exit.Signal);
        Assert.False(result.Killed);
        Assert.False(result.Trusted);
    }

    [Fact(Timeout = 60_000)]
    public async Task What_is_left_of_the_group_after_the_grace_period_is_killed()
    {
        var child = Start($"sh -c 'trap \"\" TERM; echo > {_temp.Combine("ready")}; while :; do sleep 0.05; done'");
        await WaitForAsync(() => File.Exists(_temp.Combine("ready")));

        var trusted = true;
        var result = await Sequence(child, TimeSpan.FromSeconds(1)).RunAsync(false, () => false, (_, b) =>
        {
            trusted = b;
            return Task.CompletedTask;
        }, CancellationToken.None);

        Assert.True(result.Killed);
        Assert.False(trusted);
        await WaitForAsync(() => child.GroupMembers().Count == 0);
        Assert.Contains(_log.Lines, l => l.Contains("of its process group did not within 1s: killing them", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_checkpoint_signal_is_not_sent_to_a_trainer_without_a_handler_for_it()
    {
        // The trainer handles SIGTERM but not SIGUSR1, whose default action would kill it.
        var child = Start($"trap 'exit 0' TERM; echo > {_temp.Combine("ready")}; while :; do sleep 0.05; done");
        await WaitForAsync(() => File.Exists(_temp.Combine("ready")));

        var result = await Sequence(child, TimeSpan.FromSeconds(1), checkpointSignal: 10).RunAsync(true, () => false, (_, _) => Task.CompletedTask, CancellationToken.None);

        Assert.Equal((0, (int?)null), (result.Exit.Code!.Value, result.Exit.Signal));
        Assert.Contains(_log.Lines, l => l.Contains($"the trainer (pid {child.Id}) has no handler for SIGUSR1", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_checkpoint_signal_goes_to_the_registered_pid_once_it_handles_it()
    {
        // The wrapper registers its child, which installs its SIGUSR1 handler a moment later and checkpoints on it.
        var file = _temp.Combine("signal-pid");
        var checkpointed = _temp.Combine("checkpointed");
        var child = Start(
            $"sh -c 'echo $$ > {file}; sleep 1; trap \"echo > {checkpointed}\" USR1; trap \"exit 0\" TERM; while :; do sleep 0.05; done' & wait",
            signalFile: file);
        await WaitForAsync(() => File.Exists(file));

        var result = await Sequence(child, TimeSpan.FromMinutes(1), checkpointSignal: 10, signalFile: file)
            .RunAsync(true, () => File.Exists(checkpointed), (_, _) => Task.CompletedTask, CancellationToken.None);

        Assert.True(File.Exists(checkpointed), string.Join('\n', _log.Lines));
        Assert.False(result.Killed);
        Assert.Contains(_log.Lines, l => l.Contains($"sending SIGUSR1 to the trainer (pid {File.ReadAllText(file).Trim()})", StringComparison.Ordinal));
    }

    public void Dispose() => _temp.Dispose();

    private static ChildProcess Start(string script, string? signalFile = null) =>
        ChildProcess.Start("/bin/sh", ["sh", "-c", script], ChildProcess.EnvironmentWith(new Dictionary<string, string> { ["BATON_SIGNAL_FILE"] = signalFile ?? "" }));

    private StopSequence Sequence(ChildProcess child, TimeSpan grace, int? checkpointSignal = null, string? signalFile = null) => new(child, new StopSettings
    {
        StopSignal = SignalNames.Term, Grace = grace, CheckpointSignal = checkpointSignal, SignalFile = signalFile,
    }, _log, TimeProvider.System);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}
