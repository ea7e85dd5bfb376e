namespace Baton.Supervision;

/// <summary>When a checkpoint was written and how long the trainer took to write it, from its files' times.</summary>
internal static class SaveTimes
{
    /// <summary>
    /// The newest file's modification time, and the span from the first file this save created to the last file's
    /// modification: the trainer's save stall. Files under names the previous checkpoint lacked mark the start; without
    /// any, a file re-created after <paramref name="previous"/>'s floor does. Others (an index rewritten in place, a
    /// config written once, a restored file) are carried over, not part of this save. The stall is null without a previous checkpoint to tell fresh files from, or
    /// where it cannot be told from zero (no birth times on this file system, a write within the clock's resolution);
    /// both are null when the files vanished.
    /// </summary>
    public static (DateTimeOffset? Written, double? StallSeconds) Of(string directory, IReadOnlyList<string> files, PreviousSave? previous)
    {
        // Files under names the previous checkpoint lacked say best when the save began; a file re-created under an old
        // name may have been re-created at any save since the previous one was seen, so it counts only without them.
        DateTime? firstNew = null;
        DateTime? first = null;
        DateTime? last = null;
        try
        {
            foreach (var file in files)
            {
                var info = new FileInfo(Path.Combine(directory, file));
                if (!info.Exists)
                {
                    return (null, null);
                }

                var created = info.CreationTimeUtc;
                var modified = info.LastWriteTimeUtc;
                if (previous is not null && !previous.Files.Contains(file))
                {
                    firstNew = firstNew is null || created < firstNew ? created : firstNew;
                }
                else if (previous is not null && created > previous.Floor.UtcDateTime)
                {
                    first = first is null || created < first ? created : first;
                }

                last = last is null || modified > last ? modified : last;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, null);
        }

        if (last is not { } written)
        {
            return (null, null);
        }

        first = firstNew ?? first;
        var stall = first is { } start && written > start ? (written - start).TotalSeconds : (double?)null;
        return (new DateTimeOffset(written, TimeSpan.Zero), stall is { } s ? Math.Round(s, 3) : null);
    }
}

/// <summary>The checkpoint before: its files, and the later of its write and the moment the supervisor saw it.</summary>
internal sealed record PreviousSave(IReadOnlySet<string> Files, DateTimeOffset Floor);
