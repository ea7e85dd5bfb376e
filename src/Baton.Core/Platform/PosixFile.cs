using System.Runtime.InteropServices;

namespace Baton.Platform;

/// <summary>The few POSIX calls .NET does not expose: directory fsync and inode numbers.</summary>
internal enum NoReplaceResult
{
    /// <summary>A hard link was made; the source name still exists.</summary>
    Linked,

    /// <summary>The source was renamed to the target.</summary>
    Renamed,

    /// <summary>The target exists; nothing changed.</summary>
    Exists,

    /// <summary>The file system supports neither way.</summary>
    Unsupported,
}

internal static partial class PosixFile
{
    private const int OpenReadOnly = 0;
    private const int OpenDirectory = 0x10000; // O_DIRECTORY on Linux
    private const int AtFdCwd = -100;
    private const int StatxBasicStats = 0x7ff;
    private const int AtSymlinkNoFollow = 0x100;

    /// <summary>
    /// Flushes a directory's entries so that a rename into it survives a power loss. Best effort: file systems
    /// that cannot sync directories (some FUSE mounts) are not an error.
    /// </summary>
    public static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(path, OpenReadOnly | OpenDirectory);
        if (fd < 0)
        {
            return;
        }

        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>The file's inode number, or 0 where it cannot be read.</summary>
    public static ulong GetInode(string path) => Stat(path).Inode;

    /// <summary>
    /// The entry's type and inode number, without following a final symbolic link. Where the platform gives no
    /// answer the type is <see cref="PosixFileType.Unknown"/> and the inode 0.
    /// </summary>
    public static unsafe (PosixFileType Type, ulong Inode) Stat(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (PosixFileType.Unknown, 0);
        }

        // struct statx has the same layout on every Linux architecture: stx_mode (u16) at 28, stx_ino (u64) at 32.
        var buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            return (PosixFileType.Unknown, 0);
        }

        var type = (*(ushort*)(buffer + 28) & 0xF000) switch
        {
            0x8000 => PosixFileType.Regular,
            0x4000 => PosixFileType.Directory,
            0xA000 => PosixFileType.SymbolicLink,
            0x1000 => PosixFileType.Fifo,
            0xC000 => PosixFileType.Socket,
            0x2000 => PosixFileType.CharacterDevice,
            0x6000 => PosixFileType.BlockDevice,
            _ => PosixFileType.Unknown,
        };
        return (type, *(ulong*)(buffer + 32));
    }

    /// <summary>
    /// A regular file's size, inode number and modification time (following a final symbolic link) from one statx
    /// call; null when the path is not a regular file, cannot be read, or this is not Linux.
    /// </summary>
    public static unsafe PosixFileVersion? StatRegularFile(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // struct statx: stx_mode (u16) at 28, stx_ino (u64) at 32, stx_size (u64) at 40, stx_mtime at 112 as
        // tv_sec (i64) and tv_nsec (u32), the same on every Linux architecture.
        var buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0 || (*(ushort*)(buffer + 28) & 0xF000) != 0x8000)
        {
            return null;
        }

        var modified = DateTimeOffset.UnixEpoch.AddTicks((*(long*)(buffer + 112) * TimeSpan.TicksPerSecond) + (*(uint*)(buffer + 120) / 100));
        return new PosixFileVersion(*(long*)(buffer + 40), *(ulong*)(buffer + 32), modified);
    }

    /// <summary>
    /// Gives <paramref name="source"/> the name <paramref name="target"/> only if no such name exists, atomically:
    /// a hard link (which never replaces), or where links are not supported (FUSE mounts) renameat2 with
    /// RENAME_NOREPLACE. Returns <see cref="NoReplaceResult.Unsupported"/> when neither works on this file system.
    /// On success the source name is left in place for the caller to remove (link) or is gone (rename).
    /// </summary>
    public static NoReplaceResult CreateNoReplace(string source, string target)
    {
        const int Exists = 17; // EEXIST
        if (!OperatingSystem.IsLinux())
        {
            return NoReplaceResult.Unsupported;
        }

        if (Link(source, target) == 0)
        {
            return NoReplaceResult.Linked;
        }

        if (Marshal.GetLastPInvokeError() == Exists)
        {
            return NoReplaceResult.Exists;
        }

        const int RenameNoReplace = 1;
        if (RenameAt2(AtFdCwd, source, AtFdCwd, target, RenameNoReplace) == 0)
        {
            return NoReplaceResult.Renamed;
        }

        return Marshal.GetLastPInvokeError() == Exists ? NoReplaceResult.Exists : NoReplaceResult.Unsupported;
    }

    /// <summary>Makes <paramref name="target"/> a hard link of <paramref name="source"/>; false where it cannot be
    /// made (another file system, no hard links, a name that exists, not Linux).</summary>
    public static bool TryHardLink(string source, string target) => OperatingSystem.IsLinux() && Link(source, target) == 0;

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, int mask, byte* buffer);
}

/// <summary>What tells one version of a regular file from the next: its size, inode and modification time.</summary>
internal readonly record struct PosixFileVersion(long Size, ulong Inode, DateTimeOffset Modified);

/// <summary>What kind of file system entry a path is (the S_IFMT bits of its mode).</summary>
internal enum PosixFileType
{
    Unknown,
    Regular,
    Directory,
    SymbolicLink,
    Fifo,
    Socket,
    CharacterDevice,
    BlockDevice,
}
