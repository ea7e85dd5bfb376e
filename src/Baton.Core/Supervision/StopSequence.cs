using System.Globalization;

namespace Baton.Supervision;

/// <summary>Who gets <c>--checkpoint-signal</c>.</summary>
public enum CheckpointSignalTarget
{
    /// <summary>
    /// The process that asked for it: the pid the trainer wrote to <c>BATON_SIGNAL_FILE</c>, else the trainer itself;
    /// and only once it has a handler for the signal, so that the signal cannot kill it.
    /// </summary>
    Trainer,

    /// <summary>Every process of the trainer's group, handler or not.</summary>
    Group,
}

/// <summary>How a trainer is stopped.</summary>
internal sealed record StopSettings
{
    /// <summary>The signal that makes the trainer stop (sent to its whole group).</summary>
    public required int StopSignal { get; init; }

    /// <summary>How long the group gets after the checkpoint signal, and again after the stop signal.</summary>
    public required TimeSpan Grace { get; init; }

    /// <summary>A signal that makes the trainer write a checkpoint, or null.</summary>
    public int? CheckpointSignal { get; init; }

    /// <summary>Who gets <see cref="CheckpointSignal"/>.</summary>
    public CheckpointSignalTarget CheckpointSignalTo { get; init; } = CheckpointSignalTarget.Trainer;

    /// <summary>The file where the trainer may write the pid that handles <see cref="CheckpointSignal"/>, or null.</summary>
    public string? SignalFile { get; init; }

    /// <summary>How often the group is looked at while waiting.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);
}

/// <summary>How a stop sequence ended.</summary>
/// <param name="Exit">How the trainer (the direct child) ended.</param>
/// <param name="Killed">Whether something of its group was still running at the end of the grace period and was killed.</param>
/// <param name="Trusted">
/// Whether what the trainer wrote is whole: its group ended by itself, and the trainer exited with a code (it handled
/// the signal) or was a wrapper with a child that had a handler for it.
/// </param>
internal sealed record StopResult(ChildExit Exit, bool Killed, bool Trusted);

/// <summary>
/// Stopping one trainer well: the checkpoint signal (when asked for) and a wait for the checkpoint it makes, the stop
/// signal to the whole process group, the grace period for the whole group (a wrapper shell dies at once; the
/// trainer it started may still be saving), SIGKILL for whatever is left, and last the push of the final checkpoint.
/// An abort (a second signal) skips every wait.
/// </summary>
internal sealed class StopSequence(ChildProcess trainer, StopSettings settings, ISupervisorLog log, TimeProvider time)
{
    /// <summary>Runs the sequence.</summary>
    /// <param name="askForCheckpoint">Whether to send the checkpoint signal first (deadline, preemption).</param>
    /// <param name="checkpointCommitted">Whether a checkpoint was committed since the sequence began.</param>
    /// <param name="pushFinal">
    /// Pushes what the trainer left, then drains; told the trainer's exit and whether what it wrote can be trusted to
    /// be whole (see <see cref="StopResult.Trusted"/>).
    /// </param>
    /// <param name="abort">Cancelled to kill at once.</param>
    public async Task<StopResult> RunAsync(bool askForCheckpoint, Func<bool> checkpointCommitted, Func<ChildExit, bool, Task> pushFinal, CancellationToken abort)
    {
        if (askForCheckpoint && settings.CheckpointSignal is { } checkpointSignal)
        {
            var sent = await SendCheckpointSignalAsync(checkpointSignal, abort).ConfigureAwait(false);
            if (sent)
            {
                await WaitAsync(() => checkpointCommitted() || trainer.Exited.IsCompleted, abort).ConfigureAwait(false);
            }
        }

        var childHandlesStop = false;
        if (!trainer.GroupGone && !abort.IsCancellationRequested)
        {
            log.Info($"sending {SignalNames.Name(settings.StopSignal)} to the trainer; waiting up to {Durations.Format(settings.Grace)} for it to save and exit");
            // A wrapper dies of the signal at once; its children that handle it save and exit. Whether they outlived it
            // is a race (a child without a handler takes a moment to die too; one with a handler may be done before
            // any look at the group), so the trainer behind the wrapper is recognised before the signal is sent: a
            // child with a handler for it (helpers without one, such as a loader worker or a sleep, write no checkpoint).
            var others = trainer.GroupMembers().Where(pid => pid != trainer.Id).ToList();
            childHandlesStop = others.Any(pid => ProcessTable.Catches(pid, settings.StopSignal) == true);
            trainer.SignalGroup(settings.StopSignal);
            await WaitAsync(() => trainer.Exited.IsCompleted && trainer.GroupMembers().Count == 0, abort).ConfigureAwait(false);
        }

        var killed = false;
        if (!trainer.GroupGone)
        {
            killed = true;
            if (!abort.IsCancellationRequested)
            {
                var left = trainer.GroupMembers();
                var who = trainer.Exited.IsCompleted
                    ? $"the trainer exited but pid {string.Join(", ", left)} of its process group did not"
                    : "the trainer did not exit";
                log.Warn($"{who} within {Durations.Format(settings.Grace)}: killing {(trainer.Exited.IsCompleted ? "them" : "it")}");
            }

            trainer.KillGroup();
        }

        var exit = await trainer.Exited.ConfigureAwait(false);
        trainer.KillGroup();
        log.Info($"trainer {exit.Describe()}");
        // Exiting with a code means the trainer handled the signal and finished what it wrote; dying of the signal
        // means it may have been cut off mid-write, unless it was a wrapper whose child had a handler for the signal (so
        // could not die of it) and the group then ended by itself.
        var trusted = !killed && !abort.IsCancellationRequested && (exit.Code is not null || childHandlesStop);
        await pushFinal(exit, trusted).ConfigureAwait(false);
        return new StopResult(exit, killed, trusted);
    }

    // Sends the checkpoint signal where it cannot kill: to the process that handles it, once it does. Returns whether sent.
    private async Task<bool> SendCheckpointSignalAsync(int signal, CancellationToken abort)
    {
        var name = SignalNames.Name(signal);
        if (settings.CheckpointSignalTo == CheckpointSignalTarget.Group)
        {
            log.Info($"sending {name} to the trainer's process group so that it writes a checkpoint");
            trainer.SignalGroup(signal);
            return true;
        }

        var target = trainer.Id;
        await WaitAsync(() => (target = Target()) is var pid && ProcessTable.Catches(pid, signal) != false, abort).ConfigureAwait(false);
        if (ProcessTable.Catches(target, signal) == false || abort.IsCancellationRequested)
        {
            log.Warn($"the trainer (pid {target}) has no handler for {name} after {Durations.Format(settings.Grace)}: not sending it, it would kill it " +
                     $"(a trainer behind a wrapper writes the pid that handles it to $BATON_SIGNAL_FILE)");
            return false;
        }

        log.Info($"sending {name} to the trainer (pid {target}) so that it writes a checkpoint");
        return ProcessSignals.Send(target, signal);
    }

    // The pid the trainer registered in the signal file, when it is one of its group; else the trainer itself.
    private int Target()
    {
        try
        {
            if (settings.SignalFile is { } file && File.Exists(file)
                && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ProcessTable.GroupOf(pid) == trainer.Id)
            {
                return pid;
            }
        }
        catch (IOException)
        {
            // Being written: the next look reads it whole.
        }

        return trainer.Id;
    }

    private async Task WaitAsync(Func<bool> done, CancellationToken abort)
    {
        var start = time.GetTimestamp();
        while (!done() && !abort.IsCancellationRequested && time.GetElapsedTime(start) < settings.Grace)
        {
            try
            {
                await Task.Delay(settings.PollInterval, time, abort).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
