using System.Runtime.InteropServices;

namespace Baton.Testing;

/// <summary>
/// Bytes placed against an inaccessible page, so that a decoder that reads (or writes) one byte past the end, or
/// before the start, faults at once instead of silently using whatever lies there. Linux only (mmap, mprotect).
/// </summary>
public sealed unsafe partial class GuardedBuffer : IDisposable
{
    private const int ProtNone = 0;
    private const int ProtReadWrite = 3;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private static readonly nuint s_page = (nuint)Environment.SystemPageSize;

    private readonly byte* _mapping;
    private readonly nuint _mappingLength;
    private readonly byte* _start;

    private GuardedBuffer(int length, bool guardAfter)
    {
        Length = length;
        var dataPages = ((nuint)length + s_page - 1) / s_page;
        _mappingLength = (dataPages + 2) * s_page;
        _mapping = (byte*)Mmap(null, _mappingLength, ProtNone, MapPrivateAnonymous, -1, 0);
        if (_mapping == (byte*)-1)
        {
            throw new InvalidOperationException($"mmap failed with errno {Marshal.GetLastPInvokeError()}");
        }

        // Guard page, data pages, guard page; the data touches the guard on the side under test.
        if (Mprotect(_mapping + s_page, dataPages * s_page, ProtReadWrite) != 0)
        {
            throw new InvalidOperationException($"mprotect failed with errno {Marshal.GetLastPInvokeError()}");
        }

        _start = guardAfter ? _mapping + s_page + (dataPages * s_page) - (nuint)length : _mapping + s_page;
    }

    /// <summary>The length of the usable bytes.</summary>
    public int Length { get; }

    /// <summary>The address of the first usable byte.</summary>
    public nint Address => (nint)_start;

    /// <summary>The usable bytes.</summary>
    public Span<byte> Span => new(_start, Length);

    /// <summary>A buffer whose last byte is followed by an inaccessible page.</summary>
    public static GuardedBuffer EndingAtGuard(int length) => new(length, guardAfter: true);

    /// <summary>A buffer whose first byte follows an inaccessible page.</summary>
    public static GuardedBuffer StartingAtGuard(int length) => new(length, guardAfter: false);

    /// <summary>A copy of <paramref name="data"/> against the guard on the chosen side.</summary>
    public static GuardedBuffer Of(ReadOnlySpan<byte> data, bool guardAfter)
    {
        var buffer = new GuardedBuffer(data.Length, guardAfter);
        data.CopyTo(buffer.Span);
        return buffer;
    }

    public void Dispose() => _ = Munmap(_mapping, _mappingLength);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* address, nuint length);
}
