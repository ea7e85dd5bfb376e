using System.Runtime.InteropServices;

namespace Baton.Platform;

/// <summary>Swaps two directories in one step (Linux renameat2 with RENAME_EXCHANGE) and tells mounts apart.</summary>
internal static partial class DirectoryExchange
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint RenameExchange = 2;
    private const int StatxBasicStatsAndMountId = 0x7ff | 0x1000; // STATX_BASIC_STATS | STATX_MNT_ID

    /// <summary>
    /// Exchanges the two names atomically: afterwards <paramref name="first"/> holds what <paramref name="second"/>
    /// held and the other way round, and no observer ever sees either name missing or mixed. False, with nothing
    /// changed, where the file system or the platform cannot (another mount, a mount point, no RENAME_EXCHANGE).
    /// </summary>
    public static bool TryExchange(string first, string second) =>
        OperatingSystem.IsLinux() && RenameAt2(AtFdCwd, first, AtFdCwd, second, RenameExchange) == 0;

    /// <summary>
    /// Whether a rename can move entries between the two paths: the same device and, where the kernel says, the same
    /// mount (a bind mount of the same file system still refuses renames across it). False where unknown.
    /// </summary>
    public static unsafe bool OnSameMount(string first, string second)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        // struct statx: stx_mask (u32) at 0, stx_dev_major/minor (u32) at 136/140, stx_mnt_id (u64) at 144.
        var a = stackalloc byte[256];
        var b = stackalloc byte[256];
        if (Statx(AtFdCwd, first, AtSymlinkNoFollow, StatxBasicStatsAndMountId, a) != 0
            || Statx(AtFdCwd, second, AtSymlinkNoFollow, StatxBasicStatsAndMountId, b) != 0)
        {
            return false;
        }

        if (*(uint*)(a + 136) != *(uint*)(b + 136) || *(uint*)(a + 140) != *(uint*)(b + 140))
        {
            return false;
        }

        const uint MountIdReturned = 0x1000;
        return (*(uint*)a & *(uint*)b & MountIdReturned) == 0 || *(ulong*)(a + 144) == *(ulong*)(b + 144);
    }

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, int mask, byte* buffer);
}
