namespace Baton.Staging;

/// <summary>Where staged files go: a file source to DEST (or into DEST when it is a folder), a folder source under DEST.</summary>
internal static class Layout
{
    /// <summary>The path of a single staged file.</summary>
    public static string SingleTarget(string destination, string name)
    {
        if (destination.EndsWith('/') || destination.EndsWith(Path.DirectorySeparatorChar) || Directory.Exists(destination))
        {
            if (name.Length == 0 || name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
            {
                throw new UsageException($"cannot name the file from its source: give DEST as a file path instead of the folder '{destination}'");
            }

            return Path.Combine(destination, name);
        }

        return destination;
    }

    /// <summary>Refuses a folder source whose destination is an existing file.</summary>
    public static void CheckFolderDestination(string destination)
    {
        if (File.Exists(destination))
        {
            throw new UsageException($"'{destination}' is a file, but the source is a folder: give a folder as DEST");
        }
    }

    /// <summary>The path of one file of a folder source, refusing any relative path that would leave DEST.</summary>
    public static string FolderTarget(string destination, string relative, string source)
    {
        var safe = relative.Length > 0 && relative[0] != '/' && !relative.Contains('\\', StringComparison.Ordinal) && !relative.Contains('\0', StringComparison.Ordinal)
            && relative.Split('/').All(s => s.Length > 0 && s != "." && s != "..");
        if (!safe)
        {
            throw new IntegrityException($"refusing to stage '{relative}' from {source}: the path leaves the destination folder");
        }

        return Path.Combine(destination, relative.Replace('/', Path.DirectorySeparatorChar));
    }
}
