using Baton.Storage;

namespace Baton.Cli;

/// <summary>
/// Refuses a folder store inside the directory it backs up: each push would copy the store into itself and grow it
/// with every push. Refusing (rather than leaving the store out) keeps "every file of the directory is in the
/// snapshot" true; README, "Bad input".
/// </summary>
internal static class StoreInsideDirectory
{
    /// <summary>Throws when <paramref name="store"/> is a folder at or under <paramref name="directory"/>.</summary>
    /// <exception cref="UsageException">The store lies inside the directory.</exception>
    public static void Refuse(IObjectStore store, string directory, string what)
    {
        // Only a folder store has a local path for its location; remote stores name a URI.
        if (!Path.IsPathFullyQualified(store.Location))
        {
            return;
        }

        var storePath = Resolved(store.Location);
        var directoryPath = Resolved(directory);
        if (storePath == directoryPath || storePath.StartsWith(directoryPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new UsageException(
                $"store {store.Location} is inside {what} '{directory}': it would be backed up into itself with every push; put the store outside '{directory}'");
        }
    }

    // The full path with links resolved as far as the path exists, so that a link cannot hide the nesting.
    private static string Resolved(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var existing = full;
        var rest = "";
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            rest = Path.Combine(Path.GetFileName(existing), rest);
            existing = parent;
        }

        var real = new DirectoryInfo(existing).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? existing;
        return Path.TrimEndingDirectorySeparator(Path.Combine(real, rest));
    }
}
