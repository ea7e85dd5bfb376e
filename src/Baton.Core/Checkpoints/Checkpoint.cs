namespace Baton.Checkpoints;

/// <summary>A complete checkpoint found in a checkpoint directory: what to push and at which step.</summary>
/// <param name="Format">The detector that found it (<c>tf</c>, <c>torch</c>, ...).</param>
/// <param name="Step">The training step, when the checkpoint names one.</param>
/// <param name="Name">What the trainer calls it (a prefix, a file or a directory), for messages.</param>
/// <param name="Files">The exact files to push, relative to the directory, '/'-separated, sorted.</param>
/// <param name="Fingerprint">Changes whenever any of the files changes (path, size and modification time).</param>
public sealed record Checkpoint(string Format, long? Step, string Name, IReadOnlyList<string> Files, string Fingerprint)
{
    /// <summary>The state in which each file was found; a push checks that nothing was replaced since.</summary>
    public IReadOnlyDictionary<string, Snapshots.FileStamp> Stamps { get; init; } = new Dictionary<string, Snapshots.FileStamp>();

    /// <summary>
    /// Small files the detector read to judge the checkpoint (DeepSpeed's <c>latest</c>, Megatron's tracker), as read in
    /// the states of <see cref="Stamps"/>. Trainers rewrite them in place at the next save, so a push takes these
    /// bytes: the snapshot then names its own step, and a newer save does not abandon it.
    /// </summary>
    internal IReadOnlyDictionary<string, byte[]> Contents { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>The commit record that named this checkpoint (its file name), when a trainer committed it explicitly.</summary>
    public string? CommitRecord { get; init; }

    /// <summary>When the commit record appeared (its modification time, UTC), for the latency of the push.</summary>
    public DateTimeOffset? RecordedAt { get; init; }

    /// <summary>"step N" or the name when the step is unknown, for messages.</summary>
    public string Describe() => Step is { } step ? $"step {step}" : $"'{Name}'";
}

/// <summary>How a scan judges files that may still be written.</summary>
public enum DetectionMode
{
    /// <summary>A trainer may be writing: files must have stopped changing for the detector's period.</summary>
    Live,

    /// <summary>No writer is active (before launch, or after the trainer exited cleanly): completeness markers only.</summary>
    Settled,
}

/// <summary>What one scan found.</summary>
/// <param name="Newest">The newest complete checkpoint, or <c>null</c>.</param>
/// <param name="RecheckIn">When something seen may become complete: scan again after this long.</param>
/// <param name="Pending">
/// The name of a checkpoint newer than <paramref name="Newest"/> that is whole but has not settled yet, if any.
/// </param>
public sealed record DetectionResult(Checkpoint? Newest, TimeSpan? RecheckIn, string? Pending = null)
{
    /// <summary>Nothing found and nothing pending.</summary>
    public static DetectionResult None { get; } = new(null, null);
}
