namespace Baton.Repositories;

/// <summary>
/// A committed snapshot: one checkpoint of one run. Stored at <c>runs/RUN/snapshots/SEQUENCE</c>; writing it with
/// create-if-absent is the single commit point of a push.
/// </summary>
public sealed record SnapshotManifest
{
    /// <summary>Format version of the manifest.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The run this snapshot belongs to.</summary>
    public required string Run { get; init; }

    /// <summary>Position in the run's history, from 1; also the object's name.</summary>
    public long Sequence { get; init; }

    /// <summary>Training step of the checkpoint, when known.</summary>
    public long? Step { get; init; }

    /// <summary>When the snapshot was committed.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>Host that wrote it.</summary>
    public string Host { get; init; } = "";

    /// <summary>Id of the run's previous snapshot, if any.</summary>
    public string? Parent { get; init; }

    /// <summary>Writer epoch of the writer that committed it (0 until writer leases are in use).</summary>
    public long Epoch { get; init; }

    /// <summary>
    /// A fence: no files, written by a writer that took the run over from one that did not release it, so that the
    /// old writer can never commit after it. Readers skip fences.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Fence { get; init; }

    /// <summary>Free-form labels (e.g. the checkpoint format that was detected).</summary>
    public Dictionary<string, string>? Labels { get; init; }

    /// <summary>Set on a snapshot committed by a multi-node group (docs/FORMAT.md, "Multi-node snapshots").</summary>
    public SnapshotGroup? Group { get; init; }

    /// <summary>Every file, directory and link, sorted by path.</summary>
    public required List<SnapshotEntry> Entries { get; init; }

    /// <summary>What the push did.</summary>
    public SnapshotStats Stats { get; init; } = new();
}

/// <summary>What an entry is.</summary>
public enum EntryKind
{
    /// <summary>A regular file.</summary>
    File,

    /// <summary>A directory (recorded so that empty directories come back).</summary>
    Directory,

    /// <summary>A symbolic link; restored only when it points inside the target.</summary>
    Link,
}

/// <summary>One file, directory or link of a snapshot.</summary>
public sealed record SnapshotEntry
{
    /// <summary>Path relative to the snapshot root, '/'-separated.</summary>
    public required string Path { get; init; }

    /// <summary>What the entry is.</summary>
    public EntryKind Kind { get; init; }

    /// <summary>Size in bytes (files).</summary>
    public long Size { get; init; }

    /// <summary>Unix permission bits.</summary>
    public int Mode { get; init; }

    /// <summary>Modification time, in ticks since the Unix epoch (100 ns).</summary>
    public long MTime { get; init; }

    /// <summary>Inode on the writing host; with size and mtime it lets the next push skip unchanged files.</summary>
    public ulong Inode { get; init; }

    /// <summary>Link target (links).</summary>
    public string? Target { get; init; }

    /// <summary>Chunk ids in file order (files).</summary>
    public List<string>? Chunks { get; init; }
}

/// <summary>Counters of one push.</summary>
public sealed record SnapshotStats
{
    /// <summary>Files in the snapshot.</summary>
    public long Files { get; init; }

    /// <summary>Total size of the files.</summary>
    public long Bytes { get; init; }

    /// <summary>Bytes read from disk (unchanged files are not read).</summary>
    public long BytesRead { get; init; }

    /// <summary>Raw bytes of chunks the store did not have.</summary>
    public long BytesNew { get; init; }

    /// <summary>Bytes written to the store (packs and index, after compression).</summary>
    public long BytesStored { get; init; }

    /// <summary>Wall-clock seconds the push took.</summary>
    public double Seconds { get; init; }
}

/// <summary>A committed snapshot as listed: its manifest plus the id derived from the stored bytes.</summary>
/// <param name="Id">First 16 hex digits of the SHA-256 of the stored manifest.</param>
/// <param name="Manifest">The manifest.</param>
public sealed record Snapshot(string Id, SnapshotManifest Manifest)
{
    /// <summary>The run.</summary>
    public string Run => Manifest.Run;

    /// <summary>The sequence number.</summary>
    public long Sequence => Manifest.Sequence;
}
