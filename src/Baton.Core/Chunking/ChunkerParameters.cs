namespace Baton.Chunking;

/// <summary>
/// Content-defined chunking parameters. They are stored in the repository config: two repositories with the same
/// parameters cut the same bytes at the same places, so changing a default never breaks deduplication of old ones.
/// </summary>
/// <param name="MinSize">No cut before this many bytes.</param>
/// <param name="AverageSize">The target average; a power of two.</param>
/// <param name="MaxSize">A cut is forced here.</param>
/// <param name="Seed">Seed of the gear table.</param>
public sealed record ChunkerParameters(int MinSize, int AverageSize, int MaxSize, ulong Seed)
{
    /// <summary>Sizes chosen for checkpoints of hundreds of MiB to many GiB: 512 KiB / 2 MiB / 8 MiB.</summary>
    public static ChunkerParameters Default { get; } = new(512 * 1024, 2 * 1024 * 1024, 8 * 1024 * 1024, 0x6261746f6e636463UL);

    /// <summary>Throws when the sizes are not usable.</summary>
    public void Validate()
    {
        if (MinSize < 64 || MinSize >= AverageSize || AverageSize >= MaxSize || !int.IsPow2(AverageSize) || MaxSize > 64 * 1024 * 1024)
        {
            throw new ArgumentException($"invalid chunker sizes {MinSize}/{AverageSize}/{MaxSize}");
        }
    }
}
