using Baton.Platform;
using Baton.Repositories;

namespace Baton.Snapshots;

/// <summary>A file system entry found by a scan, with what the unchanged-file check needs.</summary>
internal sealed record ScannedEntry(string RelativePath, string FullPath, EntryKind Kind, long Size, long MTime, int Mode, ulong Inode, string? Target);

/// <summary>Lists a directory tree for a push, sorted by path, without following links.</summary>
internal static class DirectoryScanner
{
    /// <summary>
    /// Lists <paramref name="root"/>, leaving out Baton's own names (<see cref="ReservedNames"/>) and telling
    /// <paramref name="onSkipped"/> each one it leaves out.
    /// </summary>
    /// <exception cref="UsageException">A name cannot be pushed (<see cref="EntryNames"/>): nothing was written.</exception>
    public static List<ScannedEntry> Scan(string root, IReadOnlyCollection<string>? include, Action<string>? onSkipped = null)
    {
        var wanted = include is null ? null : new HashSet<string>(include, StringComparer.Ordinal);
        var result = new List<ScannedEntry>();
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            foreach (var info in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", options))
            {
                var relative = Path.GetRelativePath(root, info.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (ReservedNames.IsReserved(relative))
                {
                    onSkipped?.Invoke(relative);
                    continue;
                }

                if (wanted is null || wanted.Contains(relative) || wanted.Any(w => w.StartsWith(relative + "/", StringComparison.Ordinal)))
                {
                    CheckName(relative, info.FullName);
                }

                if (info.LinkTarget is { } target)
                {
                    if (wanted is null || wanted.Contains(relative))
                    {
                        result.Add(new ScannedEntry(relative, info.FullName, EntryKind.Link, 0, MTimeOf(info), 0, 0, target));
                    }
                }
                else if (info is DirectoryInfo)
                {
                    if (wanted is null || wanted.Any(w => w.StartsWith(relative + "/", StringComparison.Ordinal)))
                    {
                        result.Add(new ScannedEntry(relative, info.FullName, EntryKind.Directory, 0, MTimeOf(info), ModeOf(info), 0, null));
                        pending.Push(info.FullName);
                    }
                }
                else if (info is FileInfo file && (wanted is null || wanted.Contains(relative)))
                {
                    // Opening a pipe blocks until a writer comes and a device may never end: only regular files are pushed.
                    var (type, inode) = PosixFile.Stat(file.FullName);
                    if (type is not (PosixFileType.Regular or PosixFileType.Unknown))
                    {
                        throw new BatonException(ErrorCategory.Failure,
                            $"cannot push '{relative}': it is a {Describe(type)}, not a regular file; remove it from the directory");
                    }

                    result.Add(new ScannedEntry(relative, file.FullName, EntryKind.File, file.Length, MTimeOf(file), ModeOf(file), inode, null));
                }
            }
        }

        if (wanted is not null)
        {
            var missing = wanted.Where(w => !result.Any(e => e.RelativePath == w)).ToList();
            if (missing.Count > 0)
            {
                throw new CheckpointChangedException(missing[0], $"'{missing[0]}' disappeared before it could be pushed; nothing was committed");
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return result;
    }

    // Pushing a name that a restore refuses would commit a snapshot nobody can pull.
    private static void CheckName(string relative, string fullPath)
    {
        if (EntryNames.WhyUnsafe(relative) is { } why)
        {
            throw new UsageException($"cannot push '{relative}': {why}; rename it, nothing was pushed");
        }

        // A name that is not valid UTF-8 reaches us with U+FFFD in place of its bytes, and that name opens nothing.
        if (relative.Contains('\uFFFD', StringComparison.Ordinal) && !Exists(fullPath))
        {
            throw new UsageException(
                $"cannot push '{relative}': the name is not valid UTF-8 (U+FFFD stands for its bytes); rename it (e.g. with 'convmv'), nothing was pushed");
        }
    }

    private static bool Exists(string path)
    {
        try
        {
            File.GetAttributes(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static long MTimeOf(FileSystemInfo info) => info.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks;

    private static string Describe(PosixFileType type) => type switch
    {
        PosixFileType.Fifo => "named pipe",
        PosixFileType.Socket => "socket",
        PosixFileType.CharacterDevice => "character device",
        PosixFileType.BlockDevice => "block device",
        _ => "special file",
    };

    private static int ModeOf(FileSystemInfo info) => OperatingSystem.IsWindows() ? 0 : (int)info.UnixFileMode;
}
