using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Baton.Compression;

/// <summary>
/// Splits little-endian floats into planes and merges them back: plane 0 the exact exponent (float32 bits 30..23,
/// 16-bit bits 14..7), plane 1 the sign with the top 7 mantissa bits, then the lower mantissa bytes, high to low.
/// SSSE3 does 16 values per step where the CPU has it; other CPUs take the scalar loop, which gives the same bytes.
/// </summary>
internal static class PlaneSplitter
{
    /// <summary>Splits <paramref name="values"/> (4 bytes each) into four planes of values.Length / 4 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Split4(ReadOnlySpan<byte> values, Span<byte> exponent, Span<byte> sign, Span<byte> middle, Span<byte> low)
    {
        var count = values.Length / 4;
        ref var v = ref MemoryMarshal.GetReference(values);
        ref var e = ref MemoryMarshal.GetReference(exponent[..count]);
        ref var s = ref MemoryMarshal.GetReference(sign[..count]);
        ref var m = ref MemoryMarshal.GetReference(middle[..count]);
        ref var l = ref MemoryMarshal.GetReference(low[..count]);
        var i = 0;
        if (Ssse3.IsSupported && BitConverter.IsLittleEndian)
        {
            var gather = Vector128.Create((byte)0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
            for (; i + 16 <= count; i += 16)
            {
                // Each shuffle groups one value quartet's bytes by position; the unpacks transpose the quartets.
                var a = Ssse3.Shuffle(Vector128.LoadUnsafe(ref v, (nuint)(i * 4)), gather).AsUInt32();
                var b = Ssse3.Shuffle(Vector128.LoadUnsafe(ref v, (nuint)((i * 4) + 16)), gather).AsUInt32();
                var c = Ssse3.Shuffle(Vector128.LoadUnsafe(ref v, (nuint)((i * 4) + 32)), gather).AsUInt32();
                var d = Ssse3.Shuffle(Vector128.LoadUnsafe(ref v, (nuint)((i * 4) + 48)), gather).AsUInt32();
                var t0 = Sse2.UnpackLow(a, b).AsUInt64();
                var t1 = Sse2.UnpackHigh(a, b).AsUInt64();
                var t2 = Sse2.UnpackLow(c, d).AsUInt64();
                var t3 = Sse2.UnpackHigh(c, d).AsUInt64();
                var b0 = Sse2.UnpackLow(t0, t2).AsByte();
                var b1 = Sse2.UnpackHigh(t0, t2).AsByte();
                var b2 = Sse2.UnpackLow(t1, t3).AsByte();
                var b3 = Sse2.UnpackHigh(t1, t3).AsByte();
                ExponentAndSign(b2, b3, out var exp, out var sgn);
                exp.StoreUnsafe(ref e, (nuint)i);
                sgn.StoreUnsafe(ref s, (nuint)i);
                b1.StoreUnsafe(ref m, (nuint)i);
                b0.StoreUnsafe(ref l, (nuint)i);
            }
        }

        for (; i < count; i++)
        {
            var word = ReadUInt32(ref v, i * 4);
            Unsafe.Add(ref e, i) = (byte)(word >> 23);
            Unsafe.Add(ref s, i) = (byte)(((word >> 24) & 0x80) | ((word >> 16) & 0x7F));
            Unsafe.Add(ref m, i) = (byte)(word >> 8);
            Unsafe.Add(ref l, i) = (byte)word;
        }
    }

    /// <summary>The inverse of <see cref="Split4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Merge4(ReadOnlySpan<byte> exponent, ReadOnlySpan<byte> sign, ReadOnlySpan<byte> middle, ReadOnlySpan<byte> low, Span<byte> values)
    {
        var count = values.Length / 4;
        ref var v = ref MemoryMarshal.GetReference(values);
        ref var e = ref MemoryMarshal.GetReference(exponent[..count]);
        ref var s = ref MemoryMarshal.GetReference(sign[..count]);
        ref var m = ref MemoryMarshal.GetReference(middle[..count]);
        ref var l = ref MemoryMarshal.GetReference(low[..count]);
        var i = 0;
        if (Sse2.IsSupported && BitConverter.IsLittleEndian)
        {
            for (; i + 16 <= count; i += 16)
            {
                HighBytes(Vector128.LoadUnsafe(ref e, (nuint)i), Vector128.LoadUnsafe(ref s, (nuint)i), out var b2, out var b3);
                var b1 = Vector128.LoadUnsafe(ref m, (nuint)i);
                var b0 = Vector128.LoadUnsafe(ref l, (nuint)i);
                var low01 = Sse2.UnpackLow(b0, b1).AsUInt16();
                var high01 = Sse2.UnpackHigh(b0, b1).AsUInt16();
                var low23 = Sse2.UnpackLow(b2, b3).AsUInt16();
                var high23 = Sse2.UnpackHigh(b2, b3).AsUInt16();
                Sse2.UnpackLow(low01, low23).AsByte().StoreUnsafe(ref v, (nuint)(i * 4));
                Sse2.UnpackHigh(low01, low23).AsByte().StoreUnsafe(ref v, (nuint)((i * 4) + 16));
                Sse2.UnpackLow(high01, high23).AsByte().StoreUnsafe(ref v, (nuint)((i * 4) + 32));
                Sse2.UnpackHigh(high01, high23).AsByte().StoreUnsafe(ref v, (nuint)((i * 4) + 48));
            }
        }

        for (; i < count; i++)
        {
            uint ex = Unsafe.Add(ref e, i);
            uint sg = Unsafe.Add(ref s, i);
            var word = ((sg & 0x80) << 24) | (ex << 23) | ((sg & 0x7F) << 16) | ((uint)Unsafe.Add(ref m, i) << 8) | Unsafe.Add(ref l, i);
            WriteUInt32(ref v, i * 4, word);
        }
    }

    /// <summary>Splits <paramref name="values"/> (2 bytes each) into two planes of values.Length / 2 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Split2(ReadOnlySpan<byte> values, Span<byte> exponent, Span<byte> sign)
    {
        var count = values.Length / 2;
        ref var v = ref MemoryMarshal.GetReference(values);
        ref var e = ref MemoryMarshal.GetReference(exponent[..count]);
        ref var s = ref MemoryMarshal.GetReference(sign[..count]);
        var i = 0;
        if (Ssse3.IsSupported && BitConverter.IsLittleEndian)
        {
            var gather = Vector128.Create((byte)0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
            for (; i + 16 <= count; i += 16)
            {
                var a = Ssse3.Shuffle(Vector128.LoadUnsafe(ref v, (nuint)(i * 2)), gather).AsUInt64();
                var b = Ssse3.Shuffle(Vector128.LoadUnsafe(ref v, (nuint)((i * 2) + 16)), gather).AsUInt64();
                ExponentAndSign(Sse2.UnpackLow(a, b).AsByte(), Sse2.UnpackHigh(a, b).AsByte(), out var exp, out var sgn);
                exp.StoreUnsafe(ref e, (nuint)i);
                sgn.StoreUnsafe(ref s, (nuint)i);
            }
        }

        for (; i < count; i++)
        {
            uint word = Unsafe.Add(ref v, i * 2) | ((uint)Unsafe.Add(ref v, (i * 2) + 1) << 8);
            Unsafe.Add(ref e, i) = (byte)(word >> 7);
            Unsafe.Add(ref s, i) = (byte)(((word >> 8) & 0x80) | (word & 0x7F));
        }
    }

    /// <summary>The inverse of <see cref="Split2"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Merge2(ReadOnlySpan<byte> exponent, ReadOnlySpan<byte> sign, Span<byte> values)
    {
        var count = values.Length / 2;
        ref var v = ref MemoryMarshal.GetReference(values);
        ref var e = ref MemoryMarshal.GetReference(exponent[..count]);
        ref var s = ref MemoryMarshal.GetReference(sign[..count]);
        var i = 0;
        if (Sse2.IsSupported && BitConverter.IsLittleEndian)
        {
            for (; i + 16 <= count; i += 16)
            {
                HighBytes(Vector128.LoadUnsafe(ref e, (nuint)i), Vector128.LoadUnsafe(ref s, (nuint)i), out var low, out var high);
                Sse2.UnpackLow(low, high).StoreUnsafe(ref v, (nuint)(i * 2));
                Sse2.UnpackHigh(low, high).StoreUnsafe(ref v, (nuint)((i * 2) + 16));
            }
        }

        for (; i < count; i++)
        {
            uint ex = Unsafe.Add(ref e, i);
            uint sg = Unsafe.Add(ref s, i);
            var word = ((sg & 0x80) << 8) | (ex << 7) | (sg & 0x7F);
            Unsafe.Add(ref v, i * 2) = (byte)word;
            Unsafe.Add(ref v, (i * 2) + 1) = (byte)(word >> 8);
        }
    }

    // From the top two bytes of each value (next = bits 8..15 of them, top = bits 0..7): the exponent straddles them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ExponentAndSign(Vector128<byte> next, Vector128<byte> top, out Vector128<byte> exponent, out Vector128<byte> sign)
    {
        var shiftedTop = Sse2.ShiftLeftLogical(top.AsUInt16(), 1).AsByte() & Vector128.Create((byte)0xFE);
        var shiftedNext = Sse2.ShiftRightLogical(next.AsUInt16(), 7).AsByte() & Vector128.Create((byte)0x01);
        exponent = shiftedTop | shiftedNext;
        sign = (top & Vector128.Create((byte)0x80)) | (next & Vector128.Create((byte)0x7F));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void HighBytes(Vector128<byte> exponent, Vector128<byte> sign, out Vector128<byte> next, out Vector128<byte> top)
    {
        top = (sign & Vector128.Create((byte)0x80)) | (Sse2.ShiftRightLogical(exponent.AsUInt16(), 1).AsByte() & Vector128.Create((byte)0x7F));
        next = (Sse2.ShiftLeftLogical(exponent.AsUInt16(), 7).AsByte() & Vector128.Create((byte)0x80)) | (sign & Vector128.Create((byte)0x7F));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadUInt32(ref byte source, int offset)
    {
        var word = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref source, offset));
        return BitConverter.IsLittleEndian ? word : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(word);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteUInt32(ref byte destination, int offset, uint word) =>
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, offset), BitConverter.IsLittleEndian ? word : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(word));
}
