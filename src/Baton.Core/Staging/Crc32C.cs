using System.Buffers.Binary;
using System.Numerics;

namespace Baton.Staging;

/// <summary>
/// CRC-32C (Castagnoli), the checksum Google Cloud Storage reports in <c>x-goog-hash: crc32c=...</c>. Built on the
/// runtime's <see cref="BitOperations.Crc32C(uint, ulong)"/>, which uses the processor's CRC instruction (SSE4.2, Arm)
/// where there is one and a table where there is not.
/// </summary>
internal sealed class Crc32C
{
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
        // Eight bytes per step, little-endian as the reflected CRC consumes them, then the tail byte by byte.
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        _state = crc;
    }
}
