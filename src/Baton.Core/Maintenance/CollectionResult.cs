namespace Baton.Maintenance;

/// <summary>What a garbage collection did (or, in a dry run, would do).</summary>
public sealed record CollectionResult
{
    /// <summary>Packs deleted by this collection because nothing needed them.</summary>
    public int PacksDeleted { get; init; }

    /// <summary>Bytes freed by the deleted packs.</summary>
    public long BytesFreed { get; init; }

    /// <summary>Unreferenced packs marked for deletion by a later collection.</summary>
    public int PacksCondemned { get; init; }

    /// <summary>Bytes held by packs that are marked but not yet deleted.</summary>
    public long BytesPending { get; init; }

    /// <summary>Mostly-empty packs rewritten by this collection: their live blobs copied into new packs, then deleted.</summary>
    public int PacksRepacked { get; init; }

    /// <summary>New packs written by repacking.</summary>
    public int PacksWritten { get; init; }

    /// <summary>Bytes of live blobs copied into the new packs.</summary>
    public long BytesCopied { get; init; }

    /// <summary>Bytes freed by repacking: the repacked packs' size less the new packs' size.</summary>
    public long BytesReclaimed { get; init; }

    /// <summary>Packs marked for repacking by a later collection (or, in a dry run, that would be repacked).</summary>
    public int PacksToRepack { get; init; }

    /// <summary>About how many bytes repacking them will free.</summary>
    public long BytesToReclaim { get; init; }

    /// <summary>Why marked packs were not deleted or repacked yet, if they were not.</summary>
    public string? Deferred { get; init; }
}
