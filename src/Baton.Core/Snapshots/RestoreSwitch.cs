using Baton.Platform;

namespace Baton.Snapshots;

/// <summary>
/// Puts a fully verified staging tree in the place of a restore target so that the target is only ever entirely
/// old or entirely new. Where the file system can, the two directories are exchanged in one rename; elsewhere (the
/// target is a mount point, or the file system refuses RENAME_EXCHANGE) the top-level entries are moved under a
/// journal beside them, which the next restore or <c>baton run</c> finishes before anything reads the target.
/// </summary>
internal static class RestoreSwitch
{
    /// <summary>The journal of a switch in progress, inside the target.</summary>
    public const string JournalName = ReservedNames.RestoreJournal;

    /// <summary>Where <c>baton run</c> keeps the directory's previous content (only the latest).</summary>
    public const string PreviousName = ReservedNames.Previous;

    private const string PhaseAside = "aside";
    private const string PhaseIn = "in";

    /// <summary>The state a switch records before its first move and again between its two halves.</summary>
    private sealed record SwitchJournal(string Phase, string Staging, string Aside, bool KeepPrevious);

    /// <summary>
    /// Makes <paramref name="root"/> hold exactly what <paramref name="staging"/> holds. The previous content is
    /// removed, or with <paramref name="keepPrevious"/> kept in <see cref="PreviousName"/> inside the target. A
    /// failure before the switch leaves the target as it was; a kill at any moment leaves it old, new, or (in the
    /// journaled mode only) for <see cref="Recover"/> to finish.
    /// </summary>
    public static void Switch(string root, string staging, bool keepPrevious)
    {
        var parent = Path.GetDirectoryName(staging)!;
        var sibling = !string.Equals(parent, root, StringComparison.Ordinal);
        if (sibling)
        {
            // The new directory stands in for the old one: it keeps the old one's permissions.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(staging, File.GetUnixFileMode(root));
            }

            PosixFile.SyncDirectory(staging);
            if (DirectoryExchange.TryExchange(staging, root))
            {
                PosixFile.SyncDirectory(parent);

                // The old tree now lives at the staging name.
                DisposeOld(root, staging, keepPrevious);
                return;
            }
        }

        var aside = Path.Combine(root, ReservedNames.NewRestoreAside());
        var journal = new SwitchJournal(PhaseAside, staging, aside, keepPrevious);
        WriteJournal(root, journal);
        Directory.CreateDirectory(aside);
        try
        {
            MoveAll(UserEntries(root), aside);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Undo(root, journal, e);
            throw LeftAsItWas(root, e);
        }

        WriteJournal(root, journal with { Phase = PhaseIn });
        try
        {
            MoveAll(Directory.EnumerateFileSystemEntries(staging).ToList(), root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Undo(root, journal with { Phase = PhaseIn }, e);
            throw LeftAsItWas(root, e);
        }

        Finish(root, journal);
    }

    /// <summary>
    /// Finishes a switch that a kill interrupted, so that the target is entirely the new snapshot; does nothing
    /// where no journal is found. Call before anything reads the target.
    /// </summary>
    /// <exception cref="IOException">The switch cannot be finished; the journal is left for the next try.</exception>
    public static void Recover(string root)
    {
        var path = Path.Combine(root, JournalName);
        TryDelete(path + ".tmp");
        if (!File.Exists(path))
        {
            return;
        }

        var journal = ReadJournal(path);
        if (journal is null)
        {
            File.Delete(path);
            return;
        }

        var staged = Directory.Exists(journal.Staging);
        if (journal.Phase == PhaseAside && !staged)
        {
            // Nothing to finish with: the old content goes back where it was.
            if (Directory.Exists(journal.Aside))
            {
                MoveAll(Directory.EnumerateFileSystemEntries(journal.Aside).ToList(), root);
                TryDeleteDirectory(journal.Aside);
            }

            File.Delete(path);
            return;
        }

        if (journal.Phase == PhaseAside)
        {
            Directory.CreateDirectory(journal.Aside);
            MoveAll(UserEntries(root), journal.Aside);
            WriteJournal(root, journal with { Phase = PhaseIn });
        }

        // Entries already moved in are not in staging any more; the rest follow them.
        if (Directory.Exists(journal.Staging))
        {
            MoveAll(Directory.EnumerateFileSystemEntries(journal.Staging).Where(e => !Path.Exists(Path.Combine(root, Path.GetFileName(e)))).ToList(), root);
        }

        Finish(root, journal);
    }

    private static IOException LeftAsItWas(string root, Exception cause) =>
        new($"could not move the restored snapshot into '{root}' ({cause.Message}); '{root}' was left as it was: " +
            "make its top-level entries writable, or restore into an empty directory", cause);

    /// <summary>The entries of the target that are the user's, not Baton's own (staging, journal, pins).</summary>
    public static List<string> UserEntries(string root) =>
        Directory.EnumerateFileSystemEntries(root).Where(e => !ReservedNames.IsReserved(Path.GetFileName(e))).ToList();

    private static void Finish(string root, SwitchJournal journal)
    {
        PosixFile.SyncDirectory(root);
        if (journal.KeepPrevious && Directory.Exists(journal.Aside))
        {
            var previous = Path.Combine(root, PreviousName);
            TryDeleteDirectory(previous);
            Directory.Move(journal.Aside, previous);
        }

        File.Delete(Path.Combine(root, JournalName));
        PosixFile.SyncDirectory(root);
        TryDeleteDirectory(journal.Aside);
        TryDeleteDirectory(journal.Staging);
    }

    // Puts the old entries back after a failed switch; where even that fails the journal stays for Recover.
    private static void Undo(string root, SwitchJournal journal, Exception cause)
    {
        try
        {
            if (journal.Phase == PhaseIn)
            {
                MoveAll(UserEntries(root), journal.Staging);
            }

            MoveAll(Directory.EnumerateFileSystemEntries(journal.Aside).ToList(), root);
            Directory.Delete(journal.Aside);
            File.Delete(Path.Combine(root, JournalName));
            PosixFile.SyncDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException(
                $"restoring into '{root}' failed ({cause.Message}) and the previous content could not be put back ({e.Message}): " +
                "the next pull or 'baton run' finishes the restore", cause);
        }
    }

    private static void DisposeOld(string root, string old, bool keepPrevious)
    {
        if (keepPrevious)
        {
            // The old tree's own previous copy and Baton's leftovers are not worth keeping twice.
            foreach (var own in Directory.EnumerateFileSystemEntries(old).Where(e => ReservedNames.IsReserved(Path.GetFileName(e))))
            {
                TryDeleteDirectory(own);
                TryDelete(own);
            }

            var previous = Path.Combine(root, PreviousName);
            TryDeleteDirectory(previous);
            try
            {
                Directory.Move(old, previous);
                return;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        TryDeleteDirectory(old);
    }

    private static void MoveAll(List<string> entries, string destination)
    {
        foreach (var entry in entries)
        {
            var target = Path.Combine(destination, Path.GetFileName(entry));
            if (Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null)
            {
                Directory.Move(entry, target);
            }
            else
            {
                File.Move(entry, target);
            }
        }

        PosixFile.SyncDirectory(destination);
    }

    // Written to a temporary name and renamed: a kill leaves the old journal or the new one, never a torn one.
    private static void WriteJournal(string root, SwitchJournal journal)
    {
        var path = Path.Combine(root, JournalName);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write($"{journal.Phase}\n{journal.Staging}\n{journal.Aside}\n{(journal.KeepPrevious ? "keep" : "remove")}\n");
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        PosixFile.SyncDirectory(root);
    }

    private static SwitchJournal? ReadJournal(string path)
    {
        var lines = File.ReadAllText(path).Split('\n');
        return lines.Length >= 4 && lines[0] is PhaseAside or PhaseIn && lines[1].Length > 0 && lines[2].Length > 0
            ? new SwitchJournal(lines[0], lines[1], lines[2], lines[3] == "keep")
            : null;
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Removes a directory tree, best effort (a read-only folder may keep some of it).</summary>
    public static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null)
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
