using System.Buffers;
using Baton.Compression;
using Baton.Encryption;
using Baton.Index;
using Baton.Packs;
using Baton.Storage;

namespace Baton.Repositories;

/// <summary>
/// Reading codec-5 (delta) blobs where blobs are read: finding and verifying the base chunk a delta names, and
/// decoding a stored blob of any codec against it (opening it first in an encrypted repository).
/// </summary>
internal static class DeltaBlobs
{
    /// <summary>The base a stored delta blob names in its first 32 bytes.</summary>
    /// <exception cref="InvalidDataException">The blob is too short, altered, or sealed with another key.</exception>
    public static ContentId BaseOf(IRepositoryCipher cipher, ReadOnlySpan<byte> stored)
    {
        if (!cipher.IsEncrypted)
        {
            return DeltaCodec.BaseOf(stored);
        }

        var opened = ArrayPool<byte>.Shared.Rent(stored.Length);
        try
        {
            var length = cipher.Open(SealedKind.Blob, stored, opened);
            return DeltaCodec.BaseOf(opened.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(opened);
        }
    }

    /// <summary>
    /// Opens and decodes a stored blob into <paramref name="raw"/> (exactly its raw length); a delta blob is XORed
    /// with <paramref name="baseRaw"/>, its verified base. The caller still checks the chunk id.
    /// </summary>
    /// <exception cref="InvalidDataException">The blob is corrupt, altered, or its codec unknown.</exception>
    public static void Decode(IRepositoryCipher cipher, BlobCodec codec, ReadOnlySpan<byte> stored, Span<byte> raw, ReadOnlySpan<byte> baseRaw)
    {
        if (codec != BlobCodec.Delta)
        {
            cipher.DecodeBlob(codec, stored, raw);
            return;
        }

        if (!cipher.IsEncrypted)
        {
            BlobCompressor.Decode(codec, stored, raw, baseRaw);
            return;
        }

        var opened = ArrayPool<byte>.Shared.Rent(stored.Length);
        try
        {
            var length = cipher.Open(SealedKind.Blob, stored, opened);
            BlobCompressor.Decode(codec, opened.AsSpan(0, length), raw, baseRaw);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(opened);
        }
    }

    /// <summary>
    /// Where the base of a delta chunk is, after checking that it can be one: indexed, not itself a delta, and of the
    /// delta's raw length. <paramref name="what"/> names the delta chunk in the messages.
    /// </summary>
    /// <exception cref="IntegrityException">The base is not in the repository, or cannot be a base.</exception>
    public static BlobLocation LocateBase(MasterIndex index, ContentId baseId, int rawLength, string what)
    {
        if (!index.TryGet(baseId, out var location))
        {
            throw new IntegrityException($"{what} is a delta of chunk {baseId}, which is not in the repository");
        }

        if (location.Entry.Codec == BlobCodec.Delta)
        {
            throw new IntegrityException($"{what} is a delta of chunk {baseId}, which is itself a delta (a delta's base is never one)");
        }

        if (location.Entry.RawLength != rawLength)
        {
            throw new IntegrityException($"{what} has {rawLength} bytes but its base chunk {baseId} has {location.Entry.RawLength}");
        }

        return location;
    }

    /// <summary>
    /// Reads, decodes and verifies the base of a delta chunk. Returns its raw bytes in a buffer from the shared pool
    /// (at least <paramref name="rawLength"/> long), which the caller returns.
    /// </summary>
    /// <exception cref="IntegrityException">The base is not in the repository, cannot be a base, or is corrupt.</exception>
    /// <exception cref="StoreException">The base's pack cannot be read.</exception>
    public static async Task<byte[]> ReadBaseAsync(Repository repository, MasterIndex index, ContentId baseId, int rawLength, string what,
        CancellationToken cancellationToken)
    {
        var location = LocateBase(index, baseId, rawLength, what);
        var key = PackFormat.KeyOf(location.PackId);
        var stored = await repository.Store.ReadRangeAsync(key, location.Entry.Offset, location.Entry.Length, cancellationToken).ConfigureAwait(false);
        var raw = ArrayPool<byte>.Shared.Rent(rawLength);
        string? problem = null;
        try
        {
            repository.Cipher.DecodeBlob(location.Entry.Codec, stored, raw.AsSpan(0, rawLength));
            if (repository.Cipher.ChunkId(raw.AsSpan(0, rawLength)) != baseId)
            {
                problem = "hash mismatch";
            }
        }
        catch (InvalidDataException e)
        {
            problem = e.Message;
        }

        if (problem is not null)
        {
            ArrayPool<byte>.Shared.Return(raw);
            throw new IntegrityException($"{what} is a delta of chunk {baseId}, which is corrupt in pack {key} ({problem})");
        }

        return raw;
    }
}
