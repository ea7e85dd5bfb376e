using Baton.Journal;
using Baton.Supervision.Preemption;

namespace Baton.Supervision;

/// <summary>The ways a supervised run ends: the stop sequence, the final push and the leg's last record.</summary>
public sealed partial class Supervisor
{
    // SLURM (and a Ctrl-C in a terminal) signals every process at once: the supervisor's own copy of the signal may
    // arrive a moment after the trainer died of it. A trainer killed by a stop signal is not restarted until then.
    private static readonly TimeSpan StopSignalWindow = TimeSpan.FromSeconds(3);

    private async Task DeadlineAsync(long started, CancellationToken cancellationToken)
    {
        if (_options.Deadline is not { } deadline)
        {
            return;
        }

        var at = deadline - _options.DeadlineLead;
        try
        {
            var remaining = at - _time.GetElapsedTime(started);
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var left = deadline - _time.GetElapsedTime(started);
        _log.Info($"deadline in {Durations.Format(left < TimeSpan.Zero ? TimeSpan.Zero : left)}: stopping now to leave time for a last checkpoint");
        await RequestStopAsync(new StopRequest(SupervisorOutcome.Deadline, null, LegEndReasons.Deadline, $"stopped ahead of the deadline ({Durations.Format(deadline)})")).ConfigureAwait(false);
    }

    private async Task WatchPreemptionAsync(CancellationToken cancellationToken)
    {
        if (_options.Preemption == "none")
        {
            return;
        }

        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var monitor = await PreemptionMonitor.CreateAsync(_options.Preemption, http, _options.Endpoints, _options.PreemptionInterval, _log, _time, cancellationToken).ConfigureAwait(false);
            if (monitor is null)
            {
                return;
            }

            var notice = await monitor.WaitForNoticeAsync(cancellationToken).ConfigureAwait(false);
            _log.Info($"preemption notice: {notice}; stopping well");
            await RequestStopAsync(new StopRequest(SupervisorOutcome.Preempted, null, $"{LegEndReasons.Preempted} {monitor.Cloud}", notice)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private Task RequestStopAsync(StopRequest request) => _switch.RequestAsync(request);

    // Signals the trainer, waits for its last checkpoint and its exit, pushes what it wrote, and ends the leg.
    private async Task<SupervisorResult> StopAsync(ChildProcess? child, StopRequest request)
    {
        if (request.Outcome == SupervisorOutcome.Fenced)
        {
            // Nothing more may be committed from here: stop the trainer and leave the run to its new writer.
            _log.Warn("another writer took this run over: stopping the trainer; nothing more is pushed from this machine");
            await Pushes.AbandonAsync().ConfigureAwait(false);
            if (child is not null)
            {
                child.KillGroup();
                RecordExit(await child.Exited.ConfigureAwait(false));
            }

            return await EndAsync(request, null).ConfigureAwait(false);
        }

        if (child is null)
        {
            var present = Scanner.Scan(Checkpoints.DetectionMode.Settled).Newest;
            if (present is not null)
            {
                OnFound(present);
            }

            await DrainOrAbandonAsync().ConfigureAwait(false);
            return await EndAsync(request, null).ConfigureAwait(false);
        }

        var baseline = Volatile.Read(ref _commits);
        var sequence = new StopSequence(child, StopSettings, _log, _time);
        var stopped = await sequence.RunAsync(
            askForCheckpoint: request.Outcome is SupervisorOutcome.Deadline or SupervisorOutcome.Preempted,
            checkpointCommitted: () => Volatile.Read(ref _commits) > baseline,
            pushFinal: async (exit, trusted) =>
            {
                RecordExit(exit);
                var final = Scanner.ScanAfterExit(trusted).Newest;
                if (final is not null)
                {
                    OnFound(final);
                }

                await DrainOrAbandonAsync().ConfigureAwait(false);
            },
            _abort.Token).ConfigureAwait(false);
        return await EndAsync(request, stopped.Exit).ConfigureAwait(false);
    }

    // The stop request that came with a trainer's death (it died of the signal that stops baton too), or null.
    private async Task<StopRequest?> StoppingAlongsideAsync(ChildExit exit)
    {
        if (!_stop.Task.IsCompleted && StopSignalOf(exit) is SignalNames.Term or SignalNames.Int or SignalNames.Hup)
        {
            _log.Info($"trainer {exit.Describe()}, which baton did not send: waiting up to {Durations.Format(StopSignalWindow)} for a stop of baton itself before restarting it");
            var window = Task.Delay(StopSignalWindow, _time);
            await Task.WhenAny(window, _stop.Task).ConfigureAwait(false);
        }

        return _stop.Task.IsCompleted ? await _stop.Task.ConfigureAwait(false) : null;
    }

    // The signal a trainer ended by: killed by it, or exited with 128 + its number, as a shell does and as trainers that
    // catch SIGTERM to save a last checkpoint do (exit code 143).
    private static int? StopSignalOf(ChildExit exit) => exit.Signal ?? (exit.Code is > 128 and < 160 ? exit.Code - 128 : null);

    // "trainer stopped by SIGTERM; baton is stopping too (SIGTERM), ...": the log line for a trainer that ended with
    // baton's own stop rather than by a fault.
    private static string DescribeStoppedAlongside(ChildExit exit, StopRequest stopping)
    {
        var trainer = StopSignalOf(exit) is { } signal
            ? $"stopped by {SignalNames.Name(signal)}{(exit.Signal is null ? $" ({exit.Describe()})" : "")}"
            : exit.Describe();
        var baton = stopping.Signal is { } own ? SignalNames.Name(own) : stopping.Message;
        return $"trainer {trainer}; baton is stopping too ({baton}): pushing the last checkpoint, not restarting the trainer";
    }

    // Warns once, a while after the first launch, when the trainer has written no checkpoint that --format recognizes.
    private async Task WarnWithoutCheckpointAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _firstLaunch.Task.WaitAsync(cancellationToken).ConfigureAwait(false);

            await Task.Delay(_options.NoCheckpointWarning, _time, cancellationToken).ConfigureAwait(false);
            if (!_newCheckpointSeen && !_stop.Task.IsCompleted)
            {
                _log.Warn($"no checkpoint in {_directory} after {Durations.Format(_options.NoCheckpointWarning)} of training: looking for {FormatDescriptions.Describe(_options.Format, Scanner.Format)}; " +
                          "check that the trainer saves to --dir and that --format matches");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<SupervisorResult> FinishAsync(ChildExit exit, CheckpointWatcher watcher)
    {
        var final = Scanner.ScanAfterExit(trusted: true).Newest;
        if (final is not null)
        {
            OnFound(final);
        }

        watcher.Poke();
        var error = await DrainOrAbandonAsync().ConfigureAwait(false);
        if (_abort.IsCancellationRequested)
        {
            return await EndAsync(await _stop.Task.ConfigureAwait(false), exit).ConfigureAwait(false);
        }

        if (error is not null && final is not null && Pushes.LastCommitted?.Fingerprint != final.Fingerprint)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        return await EndAsync(new StopRequest(SupervisorOutcome.Finished, null, LegEndReasons.Finished, "trainer finished"), exit).ConfigureAwait(false);
    }

    private async Task<Exception?> DrainOrAbandonAsync()
    {
        var drained = await Pushes.DrainOrAbandonAsync(deadline: null, _abort.Token).ConfigureAwait(false);
        if (drained.Abandoned)
        {
            _log.Warn("upload abandoned: nothing partial was committed");
        }

        return drained.Error;
    }

    private async Task<SupervisorResult> EndAsync(StopRequest request, ChildExit? exit)
    {
        await FinishPruningAsync(final: request.Outcome == SupervisorOutcome.Finished).ConfigureAwait(false);
        if (_launched && !_newCheckpointSeen)
        {
            _log.Warn($"the trainer wrote no checkpoint to {_directory} in this run: looked for {FormatDescriptions.Describe(_options.Format, Scanner.Format)}; " +
                      "check that the trainer saves to --dir and that --format matches");
        }

        var newest = Pushes.NewestCommittedStep;
        var message = $"{request.Message}; {(newest is { } n ? $"newest durable checkpoint: step {n}" : Pushes.LastCommitted is { } c ? $"newest durable checkpoint: {c.Describe()}" : "no checkpoint in the store yet")}";
        Leg.Update(l => l with
        {
            Ended = _time.GetUtcNow(),
            EndReason = request.Reason,
            Message = request.Message,
            PushesAbandoned = Pushes.Abandoned,
            PushFailures = Pushes.Failures,
            Restarts = _restarts.Restarts,
        });
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
        await Leg.FlushAsync(limit.Token).ConfigureAwait(false);
        return new SupervisorResult(request.Outcome, request.Signal, newest, exit, message);
    }
}
