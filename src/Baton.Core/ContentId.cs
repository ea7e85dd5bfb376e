using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Baton;

/// <summary>A SHA-256 digest naming a chunk or a pack by its content.</summary>
public readonly struct ContentId : IEquatable<ContentId>, IComparable<ContentId>
{
    /// <summary>Length of the digest in bytes.</summary>
    public const int Size = 32;

    private readonly ulong _a, _b, _c, _d;

    private ContentId(ReadOnlySpan<byte> digest)
    {
        _a = BinaryPrimitives.ReadUInt64BigEndian(digest);
        _b = BinaryPrimitives.ReadUInt64BigEndian(digest[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(digest[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(digest[24..]);
    }

    /// <summary>Hashes <paramref name="data"/> (SHA-256, hardware accelerated where the CPU has it).</summary>
    public static ContentId Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Size];
        SHA256.HashData(data, digest);
        return new ContentId(digest);
    }

    /// <summary>Reads a digest from its 32 raw bytes.</summary>
    public static ContentId FromBytes(ReadOnlySpan<byte> digest) => new(digest[..Size]);

    /// <summary>Parses 64 hex digits.</summary>
    /// <exception cref="FormatException">The text is not 64 hex digits.</exception>
    public static ContentId Parse(string hex)
    {
        if (!TryParse(hex, out var id))
        {
            throw new FormatException($"'{hex}' is not a 64-digit hex id");
        }

        return id;
    }

    /// <summary>Parses 64 hex digits.</summary>
    public static bool TryParse(string? hex, out ContentId id)
    {
        id = default;
        if (hex is null || hex.Length != Size * 2)
        {
            return false;
        }

        Span<byte> digest = stackalloc byte[Size];
        if (Convert.FromHexString(hex, digest, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }

        id = new ContentId(digest);
        return true;
    }

    /// <summary>Writes the 32 raw bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>Lower-case hex.</summary>
    public override string ToString()
    {
        Span<byte> digest = stackalloc byte[Size];
        WriteTo(digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>The first 16 hex digits, as shown to users.</summary>
    public string ToShortString() => ToString()[..16];

    /// <summary>Whether both digests are the same 32 bytes.</summary>
    public bool Equals(ContentId other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    /// <summary>Whether <paramref name="obj"/> is a <see cref="ContentId"/> with the same 32 bytes.</summary>
    public override bool Equals(object? obj) => obj is ContentId other && Equals(other);

    /// <summary>A hash of the first 8 bytes (already uniformly distributed: they are part of a SHA-256 digest).</summary>
    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    /// <summary>Orders digests by their bytes, which is also the order of their hex strings.</summary>
    public int CompareTo(ContentId other)
    {
        var c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        if (c != 0) return c;
        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }

    /// <summary>Whether both digests are the same 32 bytes.</summary>
    public static bool operator ==(ContentId left, ContentId right) => left.Equals(right);

    /// <summary>Whether the digests differ.</summary>
    public static bool operator !=(ContentId left, ContentId right) => !left.Equals(right);

    /// <summary>Byte order, as <see cref="CompareTo"/>.</summary>
    public static bool operator <(ContentId left, ContentId right) => left.CompareTo(right) < 0;

    /// <summary>Byte order, as <see cref="CompareTo"/>.</summary>
    public static bool operator >(ContentId left, ContentId right) => left.CompareTo(right) > 0;

    /// <summary>Byte order, as <see cref="CompareTo"/>.</summary>
    public static bool operator <=(ContentId left, ContentId right) => left.CompareTo(right) <= 0;

    /// <summary>Byte order, as <see cref="CompareTo"/>.</summary>
    public static bool operator >=(ContentId left, ContentId right) => left.CompareTo(right) >= 0;
}
