using Baton.Platform;

namespace Baton.Snapshots;

/// <summary>A file system entry found by a scan, with what the unchanged-file check needs.</summary>
internal sealed record ScannedEntry(string RelativePath, string FullPath, EntryKind Kind, long Size, long MTime, int Mode, ulong Inode, string? Target);

/// <summary>Lists a directory tree for a push, sorted by path, without following links.</summary>
internal static class DirectoryScanner
{
    /// <summary>Names Baton itself leaves behind in checkpoint directories (restore staging); never pushed.</summary>
    public const string InternalPrefix = ".baton-";

    /// <summary>
    /// Whether an entry is Baton's own and never pushed: internal names (restore staging) anywhere, and the reserved
    /// <c>.baton/</c> directory (commit records) at the top.
    /// </summary>
    public static bool IsReserved(string relativePath, string name) =>
        name.StartsWith(InternalPrefix, StringComparison.Ordinal) || relativePath == Checkpoints.CommitRecords.ReservedDirectory;

    public static List<ScannedEntry> Scan(string root, IReadOnlyCollection<string>? include)
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
                if (IsReserved(relative, info.Name))
                {
                    continue;
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
