using Baton.Repositories;

namespace Baton.Snapshots;

/// <summary>
/// The one definition of the paths a snapshot may hold: push refuses what restore would refuse, so every committed
/// snapshot can be restored on the platform that pushed it. A path is relative, '/'-separated, and each name is
/// non-empty, not '.' or '..', and holds neither '\' nor NUL.
/// </summary>
public static class EntryNames
{
    /// <summary>Why <paramref name="path"/> cannot be a snapshot path; null when it can.</summary>
    public static string? WhyUnsafe(string path) => RestorePaths.WhyUnsafe(path);

    /// <summary>
    /// Refuses a directory holding a name a snapshot cannot hold, before a push writes anything to a store. Errors
    /// reading the directory are left to the push itself, which reports them.
    /// </summary>
    /// <exception cref="UsageException">A name cannot be pushed; the message names it and says what to do.</exception>
    public static void CheckTree(string directory)
    {
        try
        {
            DirectoryScanner.Scan(Path.GetFullPath(directory), include: null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The push reads the directory again and reports this with its own context.
        }
    }
}
