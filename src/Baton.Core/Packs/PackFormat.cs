using System.Buffers.Binary;
using Baton.Compression;
using Baton.Encryption;

namespace Baton.Packs;

/// <summary>One blob's place in a pack, as the pack header and the index record it.</summary>
/// <param name="Id">SHA-256 of the blob's raw (decoded) bytes.</param>
/// <param name="Offset">Offset of the encoded bytes from the start of the pack.</param>
/// <param name="Length">Encoded length.</param>
/// <param name="RawLength">Decoded length.</param>
/// <param name="Codec">How the bytes are encoded.</param>
public readonly record struct PackEntry(ContentId Id, long Offset, int Length, int RawLength, BlobCodec Codec)
{
    /// <summary>
    /// For a <see cref="BlobCodec.Delta"/> blob, the base chunk it is XORed with (as the index records it; the pack
    /// header does not, the blob's first 32 bytes do); null otherwise, and null where only the pack header was read.
    /// </summary>
    public ContentId? Base { get; init; }
}

/// <summary>
/// The pack layout (docs/FORMAT.md): <c>magic | blob... | header | blob count (u32 LE) | magic</c>; the header holds
/// one 41-byte record per blob (id, codec, encoded length, raw length), in blob order.
/// </summary>
public static class PackFormat
{
    /// <summary>The 8 bytes at both ends of every pack.</summary>
    public static ReadOnlySpan<byte> Magic => "BTNPACK1"u8;

    /// <summary>Size of one header record.</summary>
    public const int RecordSize = ContentId.Size + 1 + 4 + 4;

    /// <summary>Size of the fixed trailer: blob count and magic.</summary>
    public const int TrailerSize = 4 + 8;

    /// <summary>The object key of a pack.</summary>
    public static string KeyOf(ContentId packId) => RepositoryLayout.PackKey(packId);

    /// <summary>Parses a pack id back from its key, or returns false for other keys.</summary>
    public static bool TryParseKey(string key, out ContentId packId) => RepositoryLayout.TryParsePackKey(key, out packId);

    /// <summary>
    /// The pack's name: the SHA-256 of its header and trailer, everything after the last blob. The header names every
    /// blob by the hash of its content, with its codec and length, so the name commits to the whole pack while hashing
    /// a few kilobytes instead of tens of megabytes; each blob's bytes are checked against their own id when read.
    /// </summary>
    /// <exception cref="InvalidDataException">The pack is malformed.</exception>
    public static ContentId IdOf(ReadOnlySpan<byte> pack, IRepositoryCipher cipher)
    {
        ArgumentNullException.ThrowIfNull(cipher);
        return ContentId.Compute(pack[HeaderStart(pack, cipher)..]);
    }

    /// <summary>Reads the blob count from a pack's last <see cref="TrailerSize"/> bytes.</summary>
    /// <exception cref="InvalidDataException">The trailer is not a pack trailer.</exception>
    public static int ReadBlobCount(ReadOnlySpan<byte> trailer)
    {
        if (trailer.Length != TrailerSize || !trailer[4..].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a Baton pack (bad trailer)");
        }

        return checked((int)BinaryPrimitives.ReadUInt32LittleEndian(trailer));
    }

    /// <summary>Parses the header records (without the trailer) into entries with offsets.</summary>
    /// <exception cref="InvalidDataException">The header is malformed.</exception>
    public static List<PackEntry> ReadHeader(ReadOnlySpan<byte> header, long packSize)
    {
        if (header.Length % RecordSize != 0)
        {
            throw new InvalidDataException("pack header has a partial record");
        }

        var entries = new List<PackEntry>(header.Length / RecordSize);
        long offset = Magic.Length;
        for (var record = header; !record.IsEmpty; record = record[RecordSize..])
        {
            var id = ContentId.FromBytes(record);
            var codec = (BlobCodec)record[ContentId.Size];
            var length = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(record[(ContentId.Size + 1)..]));
            var rawLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(record[(ContentId.Size + 5)..]));
            entries.Add(new PackEntry(id, offset, length, rawLength, codec));
            offset += length;
        }

        if (offset + header.Length + TrailerSize != packSize)
        {
            throw new InvalidDataException("pack header does not add up to the pack's size");
        }

        return entries;
    }

    /// <summary>Reads the header of a whole pack, opening it first when the repository seals headers.</summary>
    /// <exception cref="InvalidDataException">The pack is malformed, or its sealed header was altered.</exception>
    public static List<PackEntry> ReadHeader(ReadOnlySpan<byte> pack, IRepositoryCipher cipher)
    {
        ArgumentNullException.ThrowIfNull(cipher);
        var header = pack[HeaderStart(pack, cipher)..^TrailerSize];
        if (!cipher.IsEncrypted)
        {
            return ReadHeader(header, pack.Length);
        }

        var records = new byte[header.Length - cipher.Overhead];
        cipher.Open(SealedKind.PackHeader, header, records);
        return ReadHeader(records, pack.Length - cipher.Overhead);
    }

    // Where the (possibly sealed) header starts: the blob count in the trailer says how long it is.
    private static int HeaderStart(ReadOnlySpan<byte> pack, IRepositoryCipher cipher)
    {
        if (pack.Length < Magic.Length + TrailerSize || !pack[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a Baton pack (bad magic)");
        }

        var stored = ((long)ReadBlobCount(pack[^TrailerSize..]) * RecordSize) + cipher.Overhead;
        if (stored > pack.Length - Magic.Length - TrailerSize)
        {
            throw new InvalidDataException("pack header is longer than the pack");
        }

        return pack.Length - TrailerSize - (int)stored;
    }

    internal static void WriteRecord(Span<byte> destination, in PackEntry entry)
    {
        entry.Id.WriteTo(destination);
        destination[ContentId.Size] = (byte)entry.Codec;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(ContentId.Size + 1)..], (uint)entry.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(ContentId.Size + 5)..], (uint)entry.RawLength);
    }
}
