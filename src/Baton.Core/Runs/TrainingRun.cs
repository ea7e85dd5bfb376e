using Baton.Checkpoints;
using Baton.Compression;
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

    /// <summary>
    /// How long <see cref="TrainingRun.DisposeAsync"/> waits for background snapshots before it abandons the one in
    /// flight (nothing partial is committed); null waits until they are committed or their retries are spent.
    /// </summary>
    public TimeSpan? DrainDeadline { get; init; }

    /// <summary>
    /// The codec of float data in every snapshot (as <c>baton push --compression</c>): <see cref="CompressionChoice.Auto"/>,
    /// the default, writes the smaller, slower codec to network stores and the fast one to local folders.
    /// </summary>
    public CompressionChoice Compression { get; init; }
}

/// <summary>
/// The library face of Baton for trainers written in .NET (TorchSharp, ML.NET): open a run on a store, restore its
/// newest snapshot, and snapshot a checkpoint directory in the background while training goes on.
/// </summary>
/// <remarks>
/// A <see cref="TrainingRun"/> holds the run's writer lease for its lifetime (another machine on the same run is
/// refused or, with <see cref="TrainingRunOptions.TakeOver"/>, fenced). Background snapshots go through the same
/// queue as <c>baton run</c>'s pushes: "newest wins" (one push runs at a time, at most one request waits, and a newer
/// request replaces the waiting one), a push that fails on the store is retried with backoff, a directory that changes
/// after it was requested is abandoned rather than committed mixed, and the files are read through hard links so
/// that the trainer may delete the checkpoint meanwhile. Thread-safe.
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
    private readonly PushQueue _queue;
    private readonly CancellationTokenRegistration _onLost;

    private TrainingRun(Repository repository, WriterLease lease, TrainingRunOptions options)
    {
        _repository = repository;
        _lease = lease;
        _options = options;
        _queue = new PushQueue(PushAsync, new PushQueueOptions { TimeProvider = repository.Options.TimeProvider });
        // Another writer owns the run now: nothing more may be committed from here.
        _onLost = lease.Lost.Register(() => _ = _queue.AbandonAsync());
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
        _repository.PushAsync(directory, Name, new PushOptions { Step = step, Lease = _lease, Labels = _options.Labels, Compression = _options.Compression }, cancellationToken);

    /// <summary>
    /// Queues a snapshot of <paramref name="directory"/> as it is now (its files' sizes and modification times are
    /// recorded at this call) at <paramref name="step"/> and returns at once. The task completes with the committed
    /// snapshot, or with null when a newer request replaced this one before it started (or its step is older than that of
    /// a request already running or waiting). A push that fails on the store
    /// is retried with backoff while no newer request waits. The task faults with
    /// <see cref="CheckpointChangedException"/> when a file changed after this call (nothing was committed: the next
    /// snapshot carries the newer state), with the store's error when a newer request went instead of a failing one or
    /// <see cref="FlushAsync"/> gave up retrying, and with <see cref="OperationCanceledException"/> when the run was
    /// taken over or disposed first.
    /// </summary>
    public Task<Snapshot?> SnapshotInBackground(string directory, long step)
    {
        Checkpoint checkpoint;
        try
        {
            checkpoint = LibraryCheckpoints.Describe(directory, step);
        }
        catch (Exception e) when (e is BatonException or IOException or UnauthorizedAccessException)
        {
            return Task.FromException<Snapshot?>(e);
        }

        return ResultOf(_queue.Offer(Path.GetFullPath(directory), checkpoint).Completion);
    }

    /// <summary>The run's committed snapshots, oldest first.</summary>
    public Task<IReadOnlyList<Snapshot>> ListAsync(CancellationToken cancellationToken = default) =>
        _repository.ListSnapshotsAsync(Name, cancellationToken);

    /// <summary>
    /// Waits until no background snapshot is running or waiting; a push that keeps failing gets a few quick retries
    /// more, then its task faults with the store's error.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; the snapshots go on.</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default) =>
        await _queue.DrainAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Finishes background snapshots (abandoning the one in flight when <see cref="TrainingRunOptions.DrainDeadline"/>
    /// passes), then releases the writer lease.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _queue.DrainOrAbandonAsync(_options.DrainDeadline).ConfigureAwait(false);
        await _queue.AbandonAsync().ConfigureAwait(false);
        await _onLost.DisposeAsync().ConfigureAwait(false);
        await _lease.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<Snapshot?> ResultOf(Task<PushOutcome> completion)
    {
        var outcome = await completion.ConfigureAwait(false);
        if (outcome.Status is PushStatus.Abandoned or PushStatus.Failed)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(outcome.Error!);
        }

        return outcome.Status switch
        {
            PushStatus.Committed => outcome.Snapshot,
            PushStatus.Cancelled => throw new OperationCanceledException("the background snapshot was abandoned: the run was taken over or disposed; nothing partial was committed"),
            _ => null,
        };
    }

    private Task<Snapshot> PushAsync(string source, Checkpoint checkpoint, CancellationToken cancellationToken) =>
        _repository.PushAsync(source, Name, new PushOptions
        {
            Step = checkpoint.Step,
            Include = checkpoint.Files,
            Expected = checkpoint.Stamps,
            Lease = _lease,
            Labels = _options.Labels,
            Compression = _options.Compression,
        }, cancellationToken);
}
