using Baton.Repositories;

namespace Baton.Snapshots;

/// <summary>Settings of one push.</summary>
public sealed record PushOptions
{
    /// <summary>The checkpoint's training step, recorded in the manifest.</summary>
    public long? Step { get; init; }

    /// <summary>Relative paths ('/'-separated) to include; <c>null</c> includes the whole directory.</summary>
    public IReadOnlyCollection<string>? Include { get; init; }

    /// <summary>Labels recorded in the manifest.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>Receives progress; called from worker threads.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>Encoding threads; defaults to the processor count.</summary>
    public int? Workers { get; init; }

    /// <summary>
    /// CPU and I/O priority of the push's threads (Linux; elsewhere always normal). <c>baton run</c> pushes at
    /// <see cref="Platform.PushPriority.Low"/> so that the trainer beside it keeps the machine.
    /// </summary>
    public Platform.PushPriority Priority { get; init; } = Platform.PushPriority.Normal;

    /// <summary>zstd level.</summary>
    public int CompressionLevel { get; init; } = 3;

    /// <summary>The codec for float data; <see cref="Compression.CompressionChoice.Auto"/> decides by the store (<see cref="Storage.StoreCapabilities.Local"/>).</summary>
    public Compression.CompressionChoice Compression { get; init; }

    // Deltas against the parent snapshot under the small setting (codec 5); off only to measure what they save.
    internal bool Deltas { get; init; } = true;

    /// <summary>
    /// The writer lease to commit under (a supervisor holds one for its whole life). When null, the push takes a
    /// lease of its own for its duration, and fails with a conflict when a live writer holds the run.
    /// </summary>
    public Leases.WriterLease? Lease { get; init; }

    /// <summary>Fence a live holder of the run when taking a lease of its own.</summary>
    public bool TakeOver { get; init; }

    /// <summary>
    /// Told the path of each entry the push leaves out because Baton reserves its name (a staging folder or probe
    /// of its own, README "Reserved names"), so that no file is left out unsaid.
    /// </summary>
    public Action<string>? OnReservedNameSkipped { get; init; }

    /// <summary>
    /// The size and modification time each listed file must still have when the push starts (the states in which a
    /// supervisor found a checkpoint complete). A file that differs was replaced in between, by a newer checkpoint:
    /// the push fails with <see cref="CheckpointChangedException"/> instead of mixing two checkpoints.
    /// </summary>
    public IReadOnlyDictionary<string, FileStamp>? Expected { get; init; }

    /// <summary>
    /// Replaces the commit point: called with the finished manifest once the push's packs and index are durable (a
    /// multi-node run writes the node's part there, see <see cref="Groups.GroupCommitter"/>). Null: the manifest is
    /// committed at the next sequence.
    /// </summary>
    public Func<SnapshotManifest, CancellationToken, Task<Snapshot>>? Commit { get; init; }
}

/// <summary>A file's size and modification time (ticks of 100 ns since the Unix epoch).</summary>
/// <param name="Size">Length in bytes.</param>
/// <param name="MTime">Last write time, in ticks of 100 ns since the Unix epoch (UTC).</param>
public readonly record struct FileStamp(long Size, long MTime);

/// <summary>Settings of one restore.</summary>
public sealed record RestoreOptions
{
    /// <summary>Receives progress; called from worker threads.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>Transfers at once; defaults to the store's concurrency.</summary>
    public int? Concurrency { get; init; }

    /// <summary>
    /// Restore into a directory that already holds files: it becomes exactly the snapshot, and what it held before is
    /// removed (or kept aside, see <see cref="KeepPrevious"/>). Without it such a target is refused.
    /// </summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Keep the target's previous content in <c>.baton-previous</c> inside it (replacing an older one) instead of
    /// removing it; Baton's own scans never read that folder.
    /// </summary>
    public bool KeepPrevious { get; init; }
}

/// <summary>What a restore did.</summary>
/// <param name="Files">Files written.</param>
/// <param name="Bytes">Bytes written, every one verified.</param>
public sealed record RestoreResult(long Files, long Bytes);

/// <summary>A file changed while it was being pushed; nothing was committed. Push the newer checkpoint instead.</summary>
/// <param name="path">The file that changed, relative to the pushed directory.</param>
/// <param name="message">One line naming the file and saying what to do.</param>
public sealed class CheckpointChangedException(string path, string message)
    : BatonException(ErrorCategory.Failure, message)
{
    /// <summary>The file that changed, relative to the pushed directory.</summary>
    public string Path { get; } = path;
}
