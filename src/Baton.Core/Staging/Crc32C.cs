using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace Baton.Staging;

/// <summary>
/// CRC-32C (Castagnoli), the checksum Google Cloud Storage reports in <c>x-goog-hash: crc32c=...</c>. Uses the SSE4.2
/// instruction where the processor has it, a table otherwise.
/// </summary>
internal sealed class Crc32C
{
    private const uint Polynomial = 0x82F63B78; // reflected
    private static readonly uint[] Table = BuildTable();
    private uint _state = 0xFFFFFFFF;

    /// <summary>The checksum of everything appended so far.</summary>
    public uint Value => ~_state;

    /// <summary>The checksum as GCS shows it: base64 of its four big-endian bytes.</summary>
    public string ToBase64()
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Value);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>Adds bytes to the checksum.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        var crc = _state;
        if (Sse42.X64.IsSupported)
        {
            ulong wide = crc;
            while (data.Length >= 8)
            {
                wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }

            crc = (uint)wide;
        }

        if (Sse42.IsSupported)
        {
            foreach (var b in data)
            {
                crc = Sse42.Crc32(crc, b);
            }
        }
        else
        {
            foreach (var b in data)
            {
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }
        }

        _state = crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var value = i;
            for (var bit = 0; bit < 8; bit++)
            {
                value = (value & 1) != 0 ? (value >> 1) ^ Polynomial : value >> 1;
            }

            table[i] = value;
        }

        return table;
    }
}
