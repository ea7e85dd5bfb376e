using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Baton.Supervision;

/// <summary>
/// An exclusive <c>flock</c> on a hidden file beside the checkpoint directory, held by the supervisor and inherited
/// by every trainer it starts (and what they start). The kernel releases it only when the last process holding it is
/// gone, so a trainer that outlived a supervisor killed with SIGKILL still holds it, and a new <c>baton run</c> on the
/// same directory refuses to start instead of pushing that trainer's checkpoints as its own.
/// </summary>
internal sealed class DirectoryLock : IDisposable
{
    private readonly SafeFileHandle _file;

    private DirectoryLock(SafeFileHandle file, string path)
    {
        _file = file;
        Path = path;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>The descriptor to hand to each trainer.</summary>
    public int Descriptor => (int)_file.DangerousGetHandle();

    /// <summary>Where the lock of <paramref name="directory"/> lives: a hidden file beside it (inside it at the root).</summary>
    /// <param name="directory">The checkpoint directory.</param>
    /// <param name="sharer">In a multi-node run's shared directory, the node's rank: each node of the group holds its own
    /// lock (<c>.DIR.baton-lock-R</c>) of the one directory; <c>null</c> otherwise.</param>
    public static string PathFor(string directory, int? sharer = null)
    {
        var full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(directory));
        var parent = System.IO.Path.GetDirectoryName(full);
        var suffix = sharer is { } rank ? $"-{rank.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "";
        return parent is null ? System.IO.Path.Combine(full, ".baton-lock" + suffix) : System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}.baton-lock{suffix}");
    }

    /// <summary>Takes the lock of <paramref name="directory"/>.</summary>
    /// <exception cref="ConflictException">Processes of an earlier run still hold it (they are named).</exception>
    /// <exception cref="UsageException">The lock file cannot be created.</exception>
    public static DirectoryLock Acquire(string directory, string shownAs, int? sharer = null)
    {
        var path = PathFor(directory, sharer);
        // Opened by hand: .NET's FileStream takes a flock of its own (a shared one), which fails, with a misleading
        // error, exactly when an orphan holds the exclusive lock.
        var flags = OperatingSystem.IsMacOS() ? 0x2 | 0x200 | 0x1000000 : 0x2 | 0x40 | 0x80000; // O_RDWR | O_CREAT | O_CLOEXEC
        var descriptor = ProcessInterop.Open(path, flags, Convert.ToInt32("644", 8));
        if (descriptor < 0)
        {
            var error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            throw new UsageException($"cannot create the lock {path} of checkpoint directory '{shownAs}' ({error}): give a directory whose parent can be written");
        }

        var file = new SafeFileHandle(descriptor, ownsHandle: true);
        if (TryLock(file))
        {
            return new DirectoryLock(file, path);
        }

        file.Dispose();
        var holders = ProcessTable.HoldersOf(path);
        var who = holders.Count > 0 ? $"pid {string.Join(", ", holders)}" : "processes of an earlier run";
        var stop = holders.Count > 0 ? $"stop them (kill {string.Join(' ', holders)}; they may be saving: SIGTERM first)" : "stop the trainer of the earlier run";
        throw new ConflictException(
            $"another trainer still writes to '{shownAs}': {who} {(holders.Count == 1 ? "holds" : "hold")} its lock {path} (left running by a baton run that was killed); " +
            $"{stop} or wait for them to exit, then run again");
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();

    private static bool TryLock(SafeFileHandle handle)
    {
        if (ProcessInterop.Flock((int)handle.DangerousGetHandle(), ProcessInterop.LockExclusive | ProcessInterop.LockNonBlocking) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        // EWOULDBLOCK is 11 on Linux and 35 on macOS.
        return errno is ProcessInterop.WouldBlock or 35
            ? false
            : throw new InvalidOperationException($"flock failed: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
