using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Baton.Platform;

/// <summary>
/// Unbuffered (O_DIRECT) file I/O on local disk file systems, for large objects that are written once and flushed to
/// disk anyway (packs). It skips the copy into the page cache, which on many virtual machines costs more CPU than
/// compressing the data, and lets the disk stream at its own speed instead of through a write-back cache that fsync
/// then has to drain. Used only on file systems known to support it (ext4, XFS, btrfs, F2FS): network and FUSE mounts
/// keep ordinary buffered I/O, where O_DIRECT is unsupported or turns every call into a round trip.
/// </summary>
internal static partial class DirectIo
{
    /// <summary>Offsets, lengths and buffer addresses of unbuffered I/O are multiples of this.</summary>
    public const int Alignment = 4096;

    /// <summary>Bytes moved per system call; the size of a bounce buffer.</summary>
    public const int BlockSize = 4 << 20;

    private const int OpenWriteOnly = 0x1;
    private const int OpenCreate = 0x40;
    private const int OpenExclusive = 0x80;
    private const int OpenCloseOnExec = 0x80000;
    private const int SyncFileRangeWrite = 2;
    private const int MaxPooledBuffers = 4;

    private static readonly ConcurrentBag<byte[]> s_buffers = [];

    /// <summary>
    /// Whether <paramref name="directory"/> lies on a local disk file system that supports unbuffered I/O (64-bit
    /// Linux only).
    /// </summary>
    public static bool IsSupportedAt(string directory)
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess || OpenDirectFlag == 0)
        {
            return false;
        }

        return FileSystemType(directory) switch
        {
            0xEF53 => true, // ext2, ext3, ext4
            0x58465342 => true, // XFS
            0x9123683E => true, // btrfs
            0xF2F52010 => true, // F2FS
            _ => false,
        };
    }

    /// <summary>Creates a new file for unbuffered writing; <c>null</c> when it cannot be opened that way.</summary>
    public static SafeFileHandle? TryCreate(string path)
    {
        var fd = Open(path, OpenWriteOnly | OpenCreate | OpenExclusive | OpenCloseOnExec | OpenDirectFlag, Convert.ToInt32("666", 8));
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Opens a file for unbuffered reading; <c>null</c> when it cannot be opened that way.</summary>
    public static SafeFileHandle? TryOpenRead(string path)
    {
        var fd = Open(path, OpenCloseOnExec | OpenDirectFlag, 0);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Writes <paramref name="data"/> at offset 0 of an unbuffered file through an aligned bounce buffer, then sets
    /// the file's exact length (the last block is written padded).
    /// </summary>
    /// <exception cref="IOException">A write failed; an <c>EINVAL</c> (see <see cref="IsUnsupported"/>) means the
    /// file system refused unbuffered I/O after all.</exception>
    public static void Write(SafeFileHandle handle, ReadOnlySpan<byte> data)
    {
        var buffer = RentBuffer();
        try
        {
            var block = AlignedBlock(buffer);
            long offset = 0;
            while (offset < data.Length)
            {
                var length = (int)Math.Min(block.Length, data.Length - offset);
                data.Slice((int)offset, length).CopyTo(block);
                var padded = RoundUp(length);
                block[length..padded].Clear();
                RandomAccess.Write(handle, block[..padded], offset);
                offset += length;
            }

            if (RandomAccess.GetLength(handle) != data.Length)
            {
                RandomAccess.SetLength(handle, data.Length);
            }
        }
        finally
        {
            ReturnBuffer(buffer);
        }
    }

    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/> of an unbuffered file (reading
    /// whole aligned blocks around them). Returns fewer bytes only at the end of the file.
    /// </summary>
    public static int Read(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        var buffer = RentBuffer();
        try
        {
            var block = AlignedBlock(buffer);
            var done = 0;
            while (done < destination.Length)
            {
                var position = offset + done;
                var start = position - (position % Alignment);
                var skip = (int)(position - start);
                var wanted = Math.Min(block.Length, RoundUp(skip + destination.Length - done));
                var read = RandomAccess.Read(handle, block[..wanted], start);
                var useful = Math.Min(read - skip, destination.Length - done);
                if (useful <= 0)
                {
                    break;
                }

                block.Slice(skip, useful).CopyTo(destination[done..]);
                done += useful;
                if (read < wanted)
                {
                    break; // end of file
                }
            }

            return done;
        }
        finally
        {
            ReturnBuffer(buffer);
        }
    }

    /// <summary>Whether an I/O error says that the file system does not support unbuffered I/O (EINVAL).</summary>
    public static bool IsUnsupported(IOException e) => (e.HResult & 0xFFFF) == 22;

    /// <summary>
    /// Starts writing a range of a buffered file back to disk without waiting for it, so that the fsync that follows
    /// has less left to wait for and the disk works while the caller computes. Best effort.
    /// </summary>
    public static void StartWriteback(SafeFileHandle handle, long offset, long length)
    {
        if (OperatingSystem.IsLinux())
        {
            _ = SyncFileRange(handle, offset, length, SyncFileRangeWrite);
        }
    }

    // O_DIRECT differs between architectures.
    private static int OpenDirectFlag => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x4000,
        Architecture.Arm64 => 0x10000,
        _ => 0,
    };

    private static int RoundUp(int length) => (length + Alignment - 1) / Alignment * Alignment;

    private static unsafe Span<byte> AlignedBlock(byte[] buffer)
    {
        // The array is pinned (pinned object heap), so its address never changes.
        var address = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        var skip = (int)((Alignment - (address % Alignment)) % Alignment);
        return buffer.AsSpan(skip, BlockSize);
    }

    private static byte[] RentBuffer() =>
        s_buffers.TryTake(out var buffer) ? buffer : GC.AllocateUninitializedArray<byte>(BlockSize + Alignment, pinned: true);

    private static void ReturnBuffer(byte[] buffer)
    {
        if (s_buffers.Count < MaxPooledBuffers)
        {
            s_buffers.Add(buffer);
        }
    }

    private static unsafe long FileSystemType(string path)
    {
        // struct statfs starts with f_type, a long on 64-bit Linux; the whole struct is 120 bytes.
        var buffer = stackalloc long[32];
        return StatFs(path, buffer) == 0 ? buffer[0] : 0;
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "statfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int StatFs(string path, long* buffer);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long length, int flags);
}
