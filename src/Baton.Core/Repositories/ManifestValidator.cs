namespace Baton.Repositories;

/// <summary>
/// Checks a manifest whole, field by field, right after it is read and before anything acts on it: a forged or
/// damaged manifest whose checksum still matches (or that was sealed with the right key by a buggy writer) must stop a
/// restore or a prune before the first file is written or the first object deleted.
/// </summary>
internal static class ManifestValidator
{
    // Unix permission bits, setuid/setgid/sticky included; nothing above them is a mode.
    private const int MaxMode = 0xFFF;

    private static readonly long MinTicks = -DateTime.UnixEpoch.Ticks;
    private static readonly long MaxTicks = DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks;

    /// <summary>Throws unless every field of <paramref name="manifest"/> is one a writer could have written.</summary>
    /// <param name="manifest">The manifest as read.</param>
    /// <param name="what">The object, for messages (e.g. "snapshot manifest 'runs/r/snapshots/0000000001' in /store").</param>
    /// <exception cref="IntegrityException">A field is invalid; the message names the object and the field.</exception>
    public static void Validate(SnapshotManifest manifest, string what)
    {
        if (manifest.Sequence < 1)
        {
            throw Invalid(what, "sequence", $"{manifest.Sequence} is not a position in a run (from 1)");
        }

        if (manifest.Epoch < 0)
        {
            throw Invalid(what, "epoch", $"{manifest.Epoch} is negative");
        }

        if (manifest.Entries is null)
        {
            throw Invalid(what, "entries", "missing");
        }

        if (manifest.Fence && manifest.Entries.Count > 0)
        {
            throw Invalid(what, "entries", "a fence holds no files");
        }

        var stats = manifest.Stats;
        if (stats is null || stats.Files < 0 || stats.Bytes < 0 || stats.BytesRead < 0 || stats.BytesNew < 0 || stats.BytesStored < 0
            || !double.IsFinite(stats.Seconds) || stats.Seconds < 0)
        {
            throw Invalid(what, "stats", "missing or negative counters");
        }

        foreach (var entry in manifest.Entries)
        {
            ValidateEntry(entry, what);
        }

        RestorePaths.CheckEntries(manifest.Entries, what);
    }

    private static void ValidateEntry(SnapshotEntry? entry, string what)
    {
        if (entry is null || string.IsNullOrEmpty(entry.Path))
        {
            throw Invalid(what, "entries", "an entry has no path");
        }

        var field = $"entry '{entry.Path}'";
        if (!Enum.IsDefined(entry.Kind))
        {
            throw Invalid(what, field, $"kind {(int)entry.Kind} is not one this baton knows (file, directory, link): upgrade baton if a newer one wrote it");
        }

        if (entry.Mode is < 0 or > MaxMode)
        {
            throw Invalid(what, field, $"mode {entry.Mode} is not a Unix permission mode");
        }

        if (entry.MTime < MinTicks || entry.MTime > MaxTicks)
        {
            throw Invalid(what, field, $"modification time {entry.MTime} is out of range");
        }

        if (entry.Kind == EntryKind.File)
        {
            ValidateFile(entry, what, field);
        }
        else if (entry.Size != 0 || entry.Chunks is { Count: > 0 })
        {
            throw Invalid(what, field, $"a {(entry.Kind == EntryKind.Link ? "link" : "directory")} has no size or chunks");
        }

        if ((entry.Kind == EntryKind.Link) != (entry.Target is not null))
        {
            throw Invalid(what, field, entry.Kind == EntryKind.Link ? "a link without a target" : "a target on an entry that is not a link");
        }
    }

    private static void ValidateFile(SnapshotEntry entry, string what, string field)
    {
        if (entry.Size < 0)
        {
            throw Invalid(what, field, $"size {entry.Size} is negative");
        }

        var chunks = entry.Chunks ?? [];

        // Bytes need chunks, and no chunk is empty (an empty file may be one empty chunk or none).
        if ((entry.Size > 0 && chunks.Count == 0) || chunks.Count > Math.Max(entry.Size, 1))
        {
            throw Invalid(what, field, $"{chunks.Count} chunk(s) cannot hold {entry.Size} bytes");
        }

        foreach (var chunk in chunks)
        {
            if (!ContentId.TryParse(chunk, out _))
            {
                throw Invalid(what, field, $"chunk id '{Shorten(chunk)}' is malformed");
            }
        }
    }

    private static string Shorten(string? text) => text is null ? "null" : text.Length <= 80 ? text : text[..80] + "...";

    private static IntegrityException Invalid(string what, string field, string problem) =>
        new($"{what} is corrupt: {field}: {problem}");
}
