using Baton.Leases;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;

namespace Baton.Runs;

/// <summary>Settings of <see cref="TrainingRun"/>.</summary>
public sealed record TrainingRunOptions
{
    /// <summary>How the repository is opened (clock, host name); a missing repository is created.</summary>
    public RepositoryOptions Repository { get; init; } = new();

    /// <summary>Fence the run's current writer instead of failing when it is live.</summary>
    public bool TakeOver { get; init; }

    /// <summary>Labels recorded on every snapshot.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>
/// The library face of Baton for trainers written in .NET (TorchSharp, ML.NET): open a run on a store, restore its
/// newest snapshot, and snapshot a checkpoint directory in the background while training goes on.
/// </summary>
/// <remarks>
/// A <see cref="TrainingRun"/> holds the run's writer lease for its lifetime (another machine on the same run is
/// refused or, with <see cref="TrainingRunOptions.TakeOver"/>, fenced). Background snapshots are "newest wins": one
/// push runs at a time, at most one request waits, and a newer request replaces the waiting one. Thread-safe.
/// </remarks>
/// <example>
/// <code>
/// await using var run = await TrainingRun.OpenAsync(new FolderStore("/content/drive/MyDrive/runs"), "mnist");
/// var restored = await run.RestoreLatestAsync("checkpoints");
/// for (var step = (restored?.Manifest.Step ?? 0) + 1; step &lt;= 10_000; step++)
/// {
///     Train(step);
///     if (step % 500 == 0) { SaveCheckpoint("checkpoints"); _ = run.SnapshotInBackground("checkpoints", step); }
/// }
/// await run.FlushAsync();
/// </code>
/// </example>
public sealed class TrainingRun : IAsyncDisposable
{
    private readonly Repository _repository;
    private readonly WriterLease _lease;
    private readonly TrainingRunOptions _options;
    private readonly Lock _gate = new();
    private Task _running = Task.CompletedTask;
    private PendingSnapshot? _waiting;
    private bool _draining;

    private TrainingRun(Repository repository, WriterLease lease, TrainingRunOptions options)
    {
        _repository = repository;
        _lease = lease;
        _options = options;
    }

    /// <summary>The run's name.</summary>
    public string Name => _lease.Run;

    /// <summary>The repository the run lives in.</summary>
    public Repository Repository => _repository;

    /// <summary>Cancelled when another writer takes the run over; stop training and exit.</summary>
    public CancellationToken Lost => _lease.Lost;

    /// <summary>Opens (creating the repository if needed) and takes the run's writer lease.</summary>
    /// <exception cref="ConflictException">A live writer holds the run.</exception>
    public static async Task<TrainingRun> OpenAsync(IObjectStore store, string run, TrainingRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TrainingRunOptions();
        RepositoryLayout.ValidateRunName(run);
        var repository = await Repositories.Repository.OpenOrInitAsync(store, options.Repository, cancellationToken).ConfigureAwait(false);
        var lease = await WriterLease.AcquireAsync(repository, run, new LeaseOptions { TakeOver = options.TakeOver, Holder = "library" }, cancellationToken)
            .ConfigureAwait(false);
        return new TrainingRun(repository, lease, options);
    }

    /// <summary>Restores the run's newest snapshot into <paramref name="directory"/>; returns null when it has none.</summary>
    /// <exception cref="IntegrityException">Stored data is missing or corrupt; the directory is left as it was.</exception>
    public async Task<Snapshot?> RestoreLatestAsync(string directory, CancellationToken cancellationToken = default)
    {
        var newest = await _repository.FindSnapshotAsync(Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (newest is not null)
        {
            await _repository.RestoreAsync(newest, directory, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return newest;
    }

    /// <summary>Pushes <paramref name="directory"/> as the snapshot of <paramref name="step"/> and waits for the commit.</summary>
    public Task<Snapshot> SnapshotAsync(string directory, long step, CancellationToken cancellationToken = default) =>
        _repository.PushAsync(directory, Name, new PushOptions { Step = step, Lease = _lease, Labels = _options.Labels }, cancellationToken);

    /// <summary>
    /// Queues a snapshot of <paramref name="directory"/> at <paramref name="step"/> and returns at once. The task
    /// completes with the committed snapshot, or with null when a newer request replaced this one before it started.
    /// It faults when the push fails (for instance <see cref="CheckpointChangedException"/> when the trainer rewrote
    /// the directory meanwhile: the next snapshot will carry the newer state).
    /// </summary>
    public Task<Snapshot?> SnapshotInBackground(string directory, long step)
    {
        var request = new PendingSnapshot(directory, step);
        lock (_gate)
        {
            _waiting?.Completion.TrySetResult(null);
            _waiting = request;
            if (!_draining)
            {
                _draining = true;
                _running = DrainAsync();
            }
        }

        return request.Completion.Task;
    }

    /// <summary>The run's committed snapshots, oldest first.</summary>
    public Task<IReadOnlyList<Snapshot>> ListAsync(CancellationToken cancellationToken = default) =>
        _repository.ListSnapshotsAsync(Name, cancellationToken);

    /// <summary>Waits until no background snapshot is running or waiting.</summary>
    public async Task FlushAsync()
    {
        Task running;
        lock (_gate)
        {
            running = _running;
        }

        await running.ConfigureAwait(false);
    }

    /// <summary>Finishes background snapshots, then releases the writer lease.</summary>
    public async ValueTask DisposeAsync()
    {
        await FlushAsync().ConfigureAwait(false);
        await _lease.DisposeAsync().ConfigureAwait(false);
    }

    private async Task DrainAsync()
    {
        await Task.Yield();
        while (true)
        {
            PendingSnapshot? next;
            lock (_gate)
            {
                next = _waiting;
                _waiting = null;
                if (next is null)
                {
                    // Decided under the lock, so a request that arrives now starts a new drain.
                    _draining = false;
                    return;
                }
            }

            try
            {
                next.Completion.TrySetResult(await SnapshotAsync(next.Directory, next.Step).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                next.Completion.TrySetException(e);
            }
        }
    }

    private sealed record PendingSnapshot(string Directory, long Step)
    {
        public TaskCompletionSource<Snapshot?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
