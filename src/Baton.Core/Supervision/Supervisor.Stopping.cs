using Baton.Journal;
using Baton.Leases;
using Baton.Supervision.Preemption;

namespace Baton.Supervision;

/// <summary>The ways a supervised run ends: the stop sequence, the final push and the leg's last record.</summary>
public sealed partial class Supervisor
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LeaseRetry = TimeSpan.FromSeconds(5);
    private int _signalsSeen;

    // Waits for a run whose holder died without releasing it (its lease expires), unless told to take it over at once.
    private async Task<WriterLease> AcquireLeaseAsync(CancellationToken cancellationToken)
    {
        var options = new LeaseOptions { TakeOver = _options.TakeOver, Holder = "baton run" };
        var started = _time.GetTimestamp();
        var limit = options.Timeout + TimeSpan.FromSeconds(30);
        var waiting = false;
        while (true)
        {
            using var stopOrCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            try
            {
                var lease = await WriterLease.AcquireAsync(_repository!, _options.Run, options, stopOrCancel.Token).ConfigureAwait(false);
                if (lease.TookOverFrom is { } previous)
                {
                    _log.Info($"took run '{_options.Run}' over from {previous}");
                }

                if (!lease.IsEnforced)
                {
                    _log.Warn($"{_store.Location} cannot enforce create-if-absent, so one writer per run is advisory there");
                }

                return lease;
            }
            catch (ConflictException e) when (!_options.TakeOver && _time.GetElapsedTime(started) < limit)
            {
                if (!waiting)
                {
                    waiting = true;
                    _log.Info($"{e.Message}; waiting for it (up to {Durations.Format(limit)})");
                }
            }

            await Task.Delay(LeaseRetry, _time, stopOrCancel.Token).ConfigureAwait(false);
        }
    }

    private async Task PumpSignalsAsync(CancellationToken cancellationToken)
    {
        if (_signals is null)
        {
            return;
        }

        try
        {
            await foreach (var signal in _signals.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = SignalNames.Name(signal);
                if (_signalsSeen++ == 0)
                {
                    _log.Info($"{name} received: stopping well (a second signal kills the trainer at once)");
                    await RequestStopAsync(new StopRequest(SupervisorOutcome.Signaled, signal, $"{LegEndReasons.Signal} {name}", $"stopped by {name}")).ConfigureAwait(false);
                }
                else
                {
                    _log.Warn($"{name} again: killing the trainer now; an upload in flight is abandoned (nothing partial is committed)");
                    await _abort.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

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

    private async Task RequestStopAsync(StopRequest request)
    {
        if (_stop.TrySetResult(request))
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }
    }

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

        ChildExit? exit = null;
        Checkpoints.Checkpoint? final;
        if (child is not null)
        {
            if (request.Outcome is SupervisorOutcome.Deadline or SupervisorOutcome.Preempted && _options.CheckpointSignal is { } checkpointSignal)
            {
                var baseline = Volatile.Read(ref _commits);
                _log.Info($"sending {SignalNames.Name(checkpointSignal)} to the trainer so that it writes a checkpoint");
                child.SignalGroup(checkpointSignal);
                await WaitAsync(() => Volatile.Read(ref _commits) > baseline || child.Exited.IsCompleted, _options.Grace).ConfigureAwait(false);
            }

            if (!child.Exited.IsCompleted && !_abort.IsCancellationRequested)
            {
                _log.Info($"sending {SignalNames.Name(_options.StopSignal)} to the trainer; waiting up to {Durations.Format(_options.Grace)} for it to save and exit");
                child.SignalGroup(_options.StopSignal);
                await WaitAsync(() => child.Exited.IsCompleted, _options.Grace).ConfigureAwait(false);
            }

            if (!child.Exited.IsCompleted)
            {
                if (!_abort.IsCancellationRequested)
                {
                    _log.Warn($"the trainer did not exit within {Durations.Format(_options.Grace)}: killing it");
                }

                child.KillGroup();
            }

            exit = await child.Exited.ConfigureAwait(false);
            child.KillGroup();
            RecordExit(exit);
            _log.Info($"trainer {exit.Describe()}");
            final = Scanner.ScanAfterExit(trusted: exit.Code is not null && !_abort.IsCancellationRequested).Newest;
        }
        else
        {
            final = Scanner.Scan(Checkpoints.DetectionMode.Settled).Newest;
        }

        if (final is not null)
        {
            OnFound(final);
        }

        await DrainOrAbandonAsync().ConfigureAwait(false);
        return await EndAsync(request, exit).ConfigureAwait(false);
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
        try
        {
            return await Pushes.DrainAsync(_abort.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            await Pushes.AbandonAsync().ConfigureAwait(false);
            _log.Warn("upload abandoned: nothing partial was committed");
            return null;
        }
    }

    private async Task WaitAsync(Func<bool> done, TimeSpan limit)
    {
        var start = _time.GetTimestamp();
        while (!done() && !_abort.IsCancellationRequested && _time.GetElapsedTime(start) < limit)
        {
            try
            {
                await Task.Delay(PollInterval, _time, _abort.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task<SupervisorResult> EndAsync(StopRequest request, ChildExit? exit)
    {
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

    private sealed record StopRequest(SupervisorOutcome Outcome, int? Signal, string Reason, string Message);
}
