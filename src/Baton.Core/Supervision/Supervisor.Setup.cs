using System.Threading.Channels;
using Baton.Checkpoints;
using Baton.Journal;
using Baton.Leases;
using Baton.Platform;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Supervision;

/// <summary>
/// <c>baton run</c> up to its session: bad input refused before anything is written anywhere, the directory's lock,
/// the repository, the run's writer lease; then a session with all of them.
/// </summary>
public sealed partial class Supervisor
{
    private static readonly TimeSpan LeaseRetry = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Supervises the trainer until it finishes, fails for good, or is stopped. Bad input is refused before anything
    /// is written anywhere.
    /// </summary>
    /// <param name="store">The store holding the run.</param>
    /// <param name="options">What to run and how.</param>
    /// <param name="log">Where to report.</param>
    /// <param name="signals">Signals received by the process (see <see cref="SignalRelay"/>), or <c>null</c>.</param>
    /// <param name="cancellationToken">Cancels at once (the signals stop well).</param>
    /// <exception cref="UsageException">No command, a command that does not exist, an unusable directory, an unknown format.</exception>
    /// <exception cref="ConflictException">A trainer left by a killed supervisor still writes to the directory.</exception>
    /// <exception cref="BatonException">The store failed in a way that kept the newest checkpoint out of it.</exception>
    public static async Task<SupervisorResult> RunAsync(IObjectStore store, SupervisorOptions options, ISupervisorLog log, ChannelReader<int>? signals = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var time = options.TimeProvider;
        var (detector, directory, executable) = Validate(options);
        // Before anything is restored into the directory.
        using var directoryLock = DirectoryLock.Acquire(directory, options.Directory, options.Group is { IsGroup: true, SharedDirectory: true } g ? g.Rank : null);
        var started = time.GetTimestamp();
        signals ??= Channel.CreateUnbounded<int>().Reader;
        using var stopSwitch = new StopSwitch(log);
        var repository = await OpenRepositoryAsync(store, options, cancellationToken).ConfigureAwait(false);
        using var signalsDuringLease = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var earlySignals = stopSwitch.PumpAsync(signals, signalsDuringLease.Token);
        await using var lease = await AcquireLeaseAsync(store, repository, options, log, stopSwitch.Stopping.Token, cancellationToken).ConfigureAwait(false);
        await signalsDuringLease.CancelAsync().ConfigureAwait(false);
        await earlySignals.ConfigureAwait(false);
        var now = time.GetUtcNow();
        var leg = new LegRecorder(new RunJournal(repository, options.Run), new Leg
        {
            Id = RunJournal.NewLegId(time), Run = options.Run, Host = options.HostName, Started = now, Updated = now,
            Pid = Environment.ProcessId, BootId = ProcessIdentity.Current.BootId, PidNamespace = ProcessIdentity.Current.PidNamespace,
            ProcessStart = ProcessIdentity.Current.StartTime,
            NodeRank = options.Group.IsGroup ? options.Group.Rank : null, Nodes = options.Group.IsGroup ? options.Group.Nodes : null,
            GroupId = options.Group.IsGroup ? options.Group.GroupId : null,
        }, log, time);
        var session = new Supervisor(options, log, signals, stopSwitch, repository, lease, new CheckpointScanner(detector, directory, log), leg, directoryLock, executable);
        return await session.RunSessionAsync(started, cancellationToken).ConfigureAwait(false);
    }

    // The nodes of a new multi-node run create the repository at the same moment: a node that finds another's
    // half-written config (an in-flight temporary beside no config), or loses the race to create it, tries again.
    private static async Task<Repository> OpenRepositoryAsync(IObjectStore store, SupervisorOptions options, CancellationToken cancellationToken)
    {
        var repositoryOptions = new RepositoryOptions { TimeProvider = options.TimeProvider, HostName = options.HostName, Credentials = options.Credentials };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Repository.OpenOrInitAsync(store, repositoryOptions, cancellationToken).ConfigureAwait(false);
            }
            catch (BatonException e) when (options.Group.IsGroup && e.Category is ErrorCategory.Access or ErrorCategory.Usage && attempt < 12)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static (CheckpointDetector Detector, string Directory, string Executable) Validate(SupervisorOptions options)
    {
        if (options.Command.Count == 0 || string.IsNullOrEmpty(options.Command[0]))
        {
            throw new UsageException("no training command: put it after '--', e.g. baton run --store S --run R --dir logs -- python train.py");
        }

        RepositoryLayout.ValidateRunName(options.Run);
        options.Group.Validate();
        Preemption.PreemptionMonitor.ValidateKind(options.Preemption);
        var detector = CheckpointFormats.Create(options.Format, new DetectorOptions
        {
            QuietPeriod = options.QuietPeriod, StepFrom = options.StepFrom, TimeProvider = options.TimeProvider,
            NodeRank = options.Group.Rank, NodeCount = options.Group.Nodes, SharedDirectory = options.Group.SharedDirectory,
        });
        var executable = CommandLocator.Resolve(options.Command[0]);
        var directory = Path.GetFullPath(options.Directory);
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, Snapshots.ReservedNames.NewProbe());
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"checkpoint directory '{options.Directory}' is not writable ({e.Message}): give a directory the trainer can write", e);
        }

        // In a shared directory the other nodes' pins are in use.
        if (options.Group is not { IsGroup: true, SharedDirectory: true })
        {
            CheckpointPin.RemoveLeftovers(directory);
        }
        return (detector, directory, executable);
    }

    // Waits for a run whose holder died without releasing it (its lease expires), unless told to take it over at once.
    private static async Task<WriterLease> AcquireLeaseAsync(IObjectStore store, Repository repository, SupervisorOptions supervisorOptions, ISupervisorLog log,
        CancellationToken stopping, CancellationToken cancellationToken)
    {
        var time = supervisorOptions.TimeProvider;
        var group = supervisorOptions.Group;
        var options = new LeaseOptions
        {
            TakeOver = supervisorOptions.TakeOver, Holder = group.IsGroup ? $"baton run (node {group.Rank} of {group.Nodes})" : "baton run",
            GroupId = group.IsGroup ? group.GroupId : null, GroupNodes = group.Nodes, GroupRank = group.Rank,
        };
        var started = time.GetTimestamp();
        var limit = options.Timeout + TimeSpan.FromSeconds(30);
        var waiting = false;
        while (true)
        {
            using var stopOrCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
            try
            {
                var lease = await WriterLease.AcquireAsync(repository, supervisorOptions.Run, options, stopOrCancel.Token).ConfigureAwait(false);
                if (lease.Joined)
                {
                    log.Info($"joined job attempt '{group.GroupId}' of run '{supervisorOptions.Run}' (epoch {lease.Epoch}) as node {group.Rank} of {group.Nodes}");
                }
                else if (group.IsGroup)
                {
                    log.Info($"started job attempt '{group.GroupId}' of run '{supervisorOptions.Run}' (epoch {lease.Epoch}) as node {group.Rank} of {group.Nodes}");
                }

                if (lease.TookOverFrom is { } previous)
                {
                    log.Info($"took run '{supervisorOptions.Run}' over from {previous}");
                }

                if (!lease.IsEnforced)
                {
                    log.Warn($"{store.Location} cannot enforce create-if-absent, so one writer per run is advisory there");
                }

                return lease;
            }
            catch (ConflictException e) when (!supervisorOptions.TakeOver && time.GetElapsedTime(started) < limit)
            {
                if (!waiting)
                {
                    waiting = true;
                    log.Info($"{e.Message}; waiting for it (up to {Durations.Format(limit)})");
                }
            }

            await Task.Delay(LeaseRetry, time, stopOrCancel.Token).ConfigureAwait(false);
        }
    }
}
