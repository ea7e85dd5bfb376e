namespace Baton.Checkpoints;

/// <summary>Lists the files a checkpoint directory holds, as detectors and commit records see them.</summary>
internal static class CheckpointFiles
{
    /// <summary>
    /// Regular files under <paramref name="start"/> (recursively), as sorted '/'-separated paths relative to
    /// <paramref name="root"/>; links and Baton's reserved names are left out, and a folder removed while it is listed
    /// is skipped (the next scan sees the new state).
    /// </summary>
    public static List<string> Under(string root, string start)
    {
        var result = new List<string>();
        if (!Directory.Exists(start))
        {
            return result;
        }

        var pending = new Stack<string>();
        pending.Push(start);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(directory).EnumerateFileSystemInfos().ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var entry in entries)
            {
                var relative = Path.GetRelativePath(root, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (entry.LinkTarget is not null || Snapshots.ReservedNames.IsReserved(relative))
                {
                    continue;
                }

                if (entry is DirectoryInfo)
                {
                    pending.Push(entry.FullName);
                }
                else
                {
                    result.Add(relative);
                }
            }
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }
}
