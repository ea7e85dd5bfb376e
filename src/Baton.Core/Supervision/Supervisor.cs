using System.Globalization;
using System.Threading.Channels;
using Baton.Checkpoints;
using Baton.Groups;
using Baton.Journal;
using Baton.Leases;
using Baton.Repositories;
using Baton.Runs;
using Baton.Snapshots;
using Baton.Storage;

namespace Baton.Supervision;

/// <summary>
/// One <c>baton run</c> session (see <see cref="RunAsync(IObjectStore, SupervisorOptions, ISupervisorLog, ChannelReader{int}?, CancellationToken)"/>),
/// from the moment the run's lease and its directory's lock are held: restores the newest checkpoint of the run,
/// starts the trainer in its own process group, pushes each newly completed checkpoint in the background (newest
/// wins), restarts the trainer when it fails, and stops well on a signal, a deadline or a preemption notice. Each
/// session is recorded as a leg of the run.
/// </summary>
public sealed partial class Supervisor
{
    private readonly SupervisorOptions _options;
    private readonly ISupervisorLog _log;
    private readonly ChannelReader<int> _signals;
    private readonly TimeProvider _time;
    private readonly StopSwitch _switch;
    private readonly TaskCompletionSource<StopRequest> _stop;
    private readonly CancellationTokenSource _stopping;
    private readonly CancellationTokenSource _abort;
    private readonly RestartPolicy _restarts;
    private readonly Repository _repository;
    private readonly WriterLease _lease;
    private readonly CheckpointScanner _scanner;
    private readonly PushQueue _pushes;
    private readonly LegRecorder _leg;
    private readonly DirectoryLock _lock;
    private readonly string _directory;
    private readonly string _executable;
    private readonly string _signalFile;
    private readonly GroupOptions _group;
    private readonly GroupCommitter? _committer;
    private readonly TaskCompletionSource _firstLaunch = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long? _restoredStep;
    private volatile string? _launchFingerprint;
    private volatile string? _reachedFingerprint;
    private PreviousSave? _previousSave;
    private volatile bool _progress;
    private int _commits;
    private volatile bool _launched;
    private volatile bool _newCheckpointSeen;
    private string? _firstLaunchFingerprint;

    private Supervisor(SupervisorOptions options, ISupervisorLog log, ChannelReader<int> signals, StopSwitch stopSwitch, Repository repository, WriterLease lease,
        CheckpointScanner scanner, LegRecorder leg, DirectoryLock directoryLock, string executable)
    {
        _options = options;
        _log = log;
        _signals = signals;
        _time = options.TimeProvider;
        _switch = stopSwitch;
        _stop = stopSwitch.Request;
        _stopping = stopSwitch.Stopping;
        _abort = stopSwitch.Abort;
        _restarts = new RestartPolicy(options.Restart, options.Random);
        _repository = repository;
        _lease = lease;
        _scanner = scanner;
        _leg = leg;
        _lock = directoryLock;
        _directory = scanner.Directory;
        _executable = executable;
        var lockAt = directoryLock.Path.LastIndexOf("lock", StringComparison.Ordinal);
        _signalFile = directoryLock.Path[..lockAt] + "signal-pid" + directoryLock.Path[(lockAt + "lock".Length)..];
        _group = options.Group;
        _committer = _group.IsGroup ? new GroupCommitter(repository, options.Run, _group, lease) : null;
        // The queue calls back into the session, so it is made here rather than handed in.
        _pushes = new PushQueue(PushAsync, new PushQueueOptions
        {
            TimeProvider = _time,
            Committed = OnCommitted,
            Abandoned = (checkpoint, e) => log.Info($"{checkpoint.Describe()} changed while it was being pushed ({e.Path}); nothing was committed, the newer checkpoint goes next"),
            Failed = (checkpoint, e, attempt) => log.Warn($"push of {checkpoint.Describe()} failed (attempt {attempt}): {e.Message}"),
        });
    }

    private CheckpointScanner Scanner => _scanner;

    private PushQueue Pushes => _pushes;

    private LegRecorder Leg => _leg;

    private StopSettings StopSettings => new()
    {
        StopSignal = _options.StopSignal, Grace = _options.Grace, CheckpointSignal = _options.CheckpointSignal,
        CheckpointSignalTo = _options.CheckpointSignalTo, SignalFile = _signalFile,
    };

    private async Task<SupervisorResult> RunSessionAsync(long started, CancellationToken cancellationToken)
    {
        using var fenced = _lease.Lost.Register(() => _ = RequestStopAsync(new StopRequest(SupervisorOutcome.Fenced, null, LegEndReasons.Fenced,
            "another writer took over this run")));
        using var background = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var helpers = new List<Task> { _switch.PumpAsync(_signals, background.Token), DeadlineAsync(started, background.Token) };
        try
        {
            try
            {
                await RestoreAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                _log.Info("restore interrupted: the checkpoint directory is as it was");
            }

            Leg.Update(l => l with { RestoredStep = _restoredStep, Format = Scanner.Format });
            try
            {
                await StageDataAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                _log.Info("staging interrupted");
            }

            if (_stop.Task.IsCompleted)
            {
                return await EndAsync(await _stop.Task.ConfigureAwait(false), null).ConfigureAwait(false);
            }

            var watcher = new CheckpointWatcher(Scanner, _options.ScanInterval, OnFound, _log, _time);
            helpers.Add(watcher.RunAsync(background.Token));
            helpers.Add(Leg.HeartbeatAsync(_options.HeartbeatInterval, background.Token));
            helpers.Add(WatchPreemptionAsync(background.Token));
            helpers.Add(WarnWithoutCheckpointAsync(background.Token));
            if (_committer is not null)
            {
                helpers.Add(CommitPendingPartsAsync(background.Token));
            }

            return await SuperviseAsync(watcher, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Leg.Update(l => l with { Ended = _time.GetUtcNow(), EndReason = LegEndReasons.Failed, Message = e.Message });
            await Leg.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await background.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(helpers.Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default))).ConfigureAwait(false);
        }
    }

    private async Task RestoreAsync(CancellationToken cancellationToken)
    {
        if (_group.IsGroup)
        {
            await RestoreGroupAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        using var stopOrCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var newest = await _repository.FindSnapshotAsync(_options.Run, cancellationToken: stopOrCancel.Token).ConfigureAwait(false);
        RestoreSwitch.Recover(_directory);
        var local = Scanner.Scan(DetectionMode.Settled).Newest;
        var storeStep = newest?.Manifest.Step;
        Pushes.MarkCommitted(null, storeStep);
        if (newest is null)
        {
            _log.Info(local is null
                ? $"run '{_options.Run}' has no snapshots yet: starting from scratch"
                : $"run '{_options.Run}' has no snapshots yet; {local.Describe()} in {_options.Directory} will be pushed");
            return;
        }

        if (local is not null && (local.Step is null || storeStep is null || local.Step >= storeStep))
        {
            _log.Info($"{_options.Directory} already holds {local.Describe()} (the store's newest is {Describe(storeStep, newest.Id)}): keeping it");
            if (local.Step == storeStep)
            {
                Pushes.MarkCommitted(local, storeStep);
            }

            return;
        }

        var clock = _time.GetTimestamp();
        var restored = await _repository.RestoreAsync(newest, _directory,
            new RestoreOptions { Overwrite = true, KeepPrevious = true }, stopOrCancel.Token).ConfigureAwait(false);
        _restoredStep = storeStep;
        Scanner.Restored(newest.Manifest, _time);
        var after = Scanner.Scan(DetectionMode.Settled).Newest;
        Pushes.MarkCommitted(after, storeStep);
        Leg.Update(l => l with { RestoredSnapshot = newest.Id });
        _log.Info($"restored {Describe(storeStep, newest.Id)} from the store: {restored.Files} files, {Bytes(restored.Bytes)} verified in {Durations.Format(_time.GetElapsedTime(clock))}");
        if (after is null)
        {
            _log.Warn($"the restored files hold no complete {Scanner.Format} checkpoint: check --format");
        }
    }

    private async Task StageDataAsync(CancellationToken cancellationToken)
    {
        using var stopOrCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        foreach (var (source, destination) in _options.Data)
        {
            var clock = _time.GetTimestamp();
            var staged = await Staging.DataStager.StageAsync(source, destination, _options.Staging, stopOrCancel.Token).ConfigureAwait(false);
            var how = staged.BytesDownloaded > 0 ? $"{Bytes(staged.BytesDownloaded)} downloaded" : "nothing downloaded (cached or unchanged)";
            _log.Info($"staged {staged.Destination}: {staged.Files} file(s), {Bytes(staged.Bytes)}, {how}, in {Durations.Format(_time.GetElapsedTime(clock))}");
        }
    }

    private async Task<SupervisorResult> SuperviseAsync(CheckpointWatcher watcher, CancellationToken cancellationToken)
    {
        ChildExit? last = null;
        while (true)
        {
            var child = Launch();
            var exited = child.Exited;
            if (await Task.WhenAny(exited, _stop.Task).ConfigureAwait(false) != exited)
            {
                return await StopAsync(child, await _stop.Task.ConfigureAwait(false)).ConfigureAwait(false);
            }

            last = await exited.ConfigureAwait(false);
            child.KillGroup(); // whatever it left behind must not write into the directory of the next run
            RecordExit(last);
            if (last.Succeeded)
            {
                return await FinishAsync(last, watcher).ConfigureAwait(false);
            }

            var found = Scanner.ScanAfterExit(trusted: false).Newest;
            if (found is not null)
            {
                OnFound(found);
            }

            if (await StoppingAlongsideAsync(last).ConfigureAwait(false) is { } stopping)
            {
                _log.Info(DescribeStoppedAlongside(last, stopping));
                await DrainOrAbandonAsync().ConfigureAwait(false);
                return await EndAsync(stopping, last).ConfigureAwait(false);
            }

            var decision = _restarts.OnFailure(_progress);
            if (!decision.Restart)
            {
                _log.Warn($"{decision.Explanation} (last: {last.Describe()}); giving up");
                await Pushes.DrainAsync(_abort.Token).ConfigureAwait(false);
                return await EndAsync(new StopRequest(decision.GiveUpReason == LegEndReasons.CrashLoop ? SupervisorOutcome.CrashLoop : SupervisorOutcome.MaxRestarts,
                    null, decision.GiveUpReason!, decision.Explanation), last).ConfigureAwait(false);
            }

            _log.Warn($"trainer {last.Describe()} after {Durations.Format(last.Ran)}; restarting in {Durations.Format(decision.Delay)} ({decision.Explanation})");
            Leg.Update(l => l with { Restarts = _restarts.Restarts });
            var delay = Task.Delay(decision.Delay, _time, cancellationToken);
            if (await Task.WhenAny(delay, _stop.Task).ConfigureAwait(false) != delay)
            {
                return await StopAsync(null, await _stop.Task.ConfigureAwait(false)).ConfigureAwait(false);
            }

            await delay.ConfigureAwait(false);
        }
    }

    private ChildProcess Launch()
    {
        var present = Scanner.Scan(DetectionMode.Settled).Newest;
        var arguments = present is null ? _options.Command : [.. _options.Command, .. _options.ResumeArguments];
        var environment = ChildProcess.EnvironmentWith(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["BATON_RUN"] = _options.Run,
            ["BATON_CKPT_DIR"] = _directory,
            ["BATON_COMMIT_DIR"] = _directory,
            ["BATON_RESTORED_STEP"] = Format(_restoredStep),
            ["BATON_RESUME_STEP"] = present is null ? "" : Format(present.Step),
            ["BATON_SIGNAL_FILE"] = _signalFile,
            ["BATON_NODE_RANK"] = _group.Rank.ToString(CultureInfo.InvariantCulture),
            ["BATON_NODES"] = _group.Nodes.ToString(CultureInfo.InvariantCulture),
        });
        _launchFingerprint = present?.Fingerprint;
        if (!_launched)
        {
            _firstLaunchFingerprint = present?.Fingerprint;
            _launched = true;
            _firstLaunch.TrySetResult();
        }

        _progress = false;
        File.Delete(_signalFile);
        var child = ChildProcess.Start(_executable, arguments, environment, _time, _lock.Descriptor);
        var resume = present is null ? "from scratch" : $"resuming from {present.Describe()}{(_options.ResumeArguments.Count > 0 ? " (resume arguments added)" : "")}";
        _log.Info($"started {Path.GetFileName(_options.Command[0])} (pid {child.Id}), {resume}");
        return child;
    }

    private void OnFound(Checkpoint checkpoint)
    {
        if (checkpoint.Fingerprint != _launchFingerprint)
        {
            _progress = true;
        }

        if (_launched && checkpoint.Fingerprint != _firstLaunchFingerprint)
        {
            _newCheckpointSeen = true;
        }

        RecordReached(checkpoint);
        Pushes.Offer(_directory, checkpoint);
    }

    // What the trainer reached, durable or not, so that work lost with the machine is measured from it; and what the
    // checkpoint cost the trainer to write, for the interval advice.
    private void RecordReached(Checkpoint checkpoint)
    {
        if (checkpoint.Fingerprint == _reachedFingerprint)
        {
            return;
        }

        _reachedFingerprint = checkpoint.Fingerprint;
        var (written, stall) = SaveTimes.Of(_directory, checkpoint.Files, _previousSave);
        var seen = _time.GetUtcNow();
        _previousSave = new PreviousSave(checkpoint.Files.ToHashSet(StringComparer.Ordinal), written is { } w && w > seen ? w : seen);
        Leg.Update(l =>
        {
            var newer = checkpoint.Step is { } step && (l.ReachedStep is null || step >= l.ReachedStep);
            var saves = stall is null ? l.SavesMeasured : l.SavesMeasured + 1;
            return l with
            {
                ReachedStep = newer ? checkpoint.Step : l.ReachedStep,
                ReachedAt = newer ? written ?? _time.GetUtcNow() : l.ReachedAt,
                SavesMeasured = saves,
                SaveSeconds = stall is { } s ? Math.Round((((l.SaveSeconds ?? 0) * l.SavesMeasured) + s) / saves, 3) : l.SaveSeconds,
            };
        });
    }

    // Reads from source: the queue's pin of the checkpoint's files, or the checkpoint directory itself.
    private async Task<Snapshot> PushAsync(string source, Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        if (checkpoint.RecordedAt is { } recorded)
        {
            _log.Info($"push of {checkpoint.Describe()} starts {(_time.GetUtcNow() - recorded).TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms after its commit record appeared");
        }

        return await _repository.PushAsync(source, _options.Run, new PushOptions
        {
            Step = checkpoint.Step,
            Include = _committer?.ShareOf(checkpoint.Files) ?? checkpoint.Files,
            Commit = _committer is null ? null : _committer.CommitPartAsync,
            Expected = checkpoint.Stamps,
            Lease = _lease,
            Labels = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["format"] = checkpoint.Format, ["checkpoint"] = checkpoint.Name, ["leg"] = Leg.Current.Id,
            },
            // Leave most of the machine to the trainer: pushing never pauses training, but it should not starve it.
            Workers = Math.Max(1, Environment.ProcessorCount / 2),
            Priority = _options.PushPriority,
            Compression = _options.Compression,
        }, cancellationToken).ConfigureAwait(false);
    }

    private void OnCommitted(Checkpoint checkpoint, Snapshot snapshot)
    {
        Interlocked.Increment(ref _commits);
        // In a shared directory the other nodes may still need the commit records up to a step the group has not
        // committed yet; once committed, every node has pushed its share of it.
        if (!_group.IsGroup || !_group.SharedDirectory || _committer?.Last?.Committed is not null)
        {
            Scanner.Committed(checkpoint);
        }

        var stats = snapshot.Manifest.Stats;
        var what = _committer?.Last is { } part
            ? part.Committed is not null ? $"node {_group.Rank}'s part of {checkpoint.Describe()}, and committed the group's snapshot {snapshot.Id}"
            : part.Superseded ? $"node {_group.Rank}'s part of {checkpoint.Describe()} (a newer step is already committed: this one never will be)"
            : $"node {_group.Rank}'s part of {checkpoint.Describe()} ({part.PartsIn} of {_group.Nodes} parts in; the step is committed when every node's part is)"
            : $"{checkpoint.Describe()}: snapshot {snapshot.Id}";
        _log.Info($"pushed {what}, {stats.Files} files, {Bytes(stats.Bytes)} ({Bytes(stats.BytesNew)} new) in {Durations.Format(TimeSpan.FromSeconds(stats.Seconds))}");
        MaybePrune();
        Leg.Update(l => l with
        {
            CheckpointsPushed = l.CheckpointsPushed + 1,
            NewestStep = checkpoint.Step is { } step && (l.NewestStep is null || step > l.NewestStep) ? step : l.NewestStep,
            Format = checkpoint.Format,
        });
    }

    private void RecordExit(ChildExit exit) => Leg.Update(l => l with
    {
        TrainerExits = [.. l.TrainerExits.TakeLast(19), new TrainerExit(_time.GetUtcNow(), exit.Code, exit.Signal, Math.Round(exit.Ran.TotalSeconds, 3))],
    });

    private static string Describe(long? step, string id) => step is { } s ? $"step {s} (snapshot {id})" : $"snapshot {id}";

    private static string Format(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string Bytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:0.0} GiB"),
    };
}
