using System.Buffers;
using Baton.Index;
using Baton.Packs;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Maintenance;

/// <summary>The blobs of one old pack that must survive it.</summary>
/// <param name="Pack">The old pack.</param>
/// <param name="Blobs">Its blobs to copy, as the index records them.</param>
internal sealed record RepackSource(ContentId Pack, IReadOnlyList<IndexedBlob> Blobs);

/// <summary>The new packs a repack wrote, and how many bytes of blobs went into them.</summary>
internal sealed record RepackOutcome(IReadOnlyList<IndexedPack> Packs, long BytesCopied)
{
    /// <summary>Bytes of the new packs.</summary>
    public long BytesWritten => Packs.Sum(p => p.Size);
}

/// <summary>
/// Copies blobs out of old packs into new ones, moving the stored bytes unchanged (no decompression and, in an
/// encrypted repository, no re-encryption: a sealed blob is bound to its kind, not to its pack). Every blob is opened
/// and checked against its id on the way, so that a repack never carries a damaged blob into a new pack and then
/// deletes the old one. Uploads the new packs and returns their index entries; writes no index and deletes nothing.
/// </summary>
internal sealed class Repacker(Repository repository)
{
    // For the bases of delta blobs, loaded when the first one is met.
    private MasterIndex? _index;

    // Adjacent blobs are read in one request of at most this many bytes.
    private const int MaxReadSize = 16 * 1024 * 1024;

    /// <exception cref="IntegrityException">A blob does not match its id.</exception>
    /// <exception cref="StoreException">An old pack cannot be read or a new one written.</exception>
    public async Task<RepackOutcome> CopyAsync(IReadOnlyList<RepackSource> sources, CancellationToken cancellationToken)
    {
        var written = new List<(ContentId, long, IReadOnlyList<PackEntry>)>();
        var bases = new Dictionary<ContentId, ContentId>();
        long copied = 0;
        using var builder = new PackBuilder(repository.Config.PackSize, repository.Cipher);
        foreach (var source in sources)
        {
            var key = PackFormat.KeyOf(source.Pack);
            foreach (var run in AdjacentRuns(source.Blobs))
            {
                var start = run[0].Offset;
                var length = checked((int)(run[^1].Offset + run[^1].Length - start));
                var bytes = await repository.Store.ReadRangeAsync(key, start, length, cancellationToken).ConfigureAwait(false);
                foreach (var blob in run)
                {
                    var stored = bytes.AsMemory((int)(blob.Offset - start), blob.Length);
                    await VerifyAsync(key, blob, stored, cancellationToken).ConfigureAwait(false);
                    if (blob.Base is not null)
                    {
                        bases[ContentId.Parse(blob.Id)] = ContentId.Parse(blob.Base);
                    }

                    builder.AddStored(ContentId.Parse(blob.Id), blob.Codec, stored.Span, blob.RawLength);
                    copied += blob.Length;
                    if (builder.IsFull)
                    {
                        written.Add(await UploadAsync(builder, bases, cancellationToken).ConfigureAwait(false));
                    }
                }
            }
        }

        if (builder.Count > 0)
        {
            written.Add(await UploadAsync(builder, bases, cancellationToken).ConfigureAwait(false));
        }

        return new RepackOutcome(MasterIndex.Describe(written).Packs, copied);
    }

    // Blobs in pack order, grouped where each starts where the previous ends, so a half-live pack takes few reads.
    private static IEnumerable<List<IndexedBlob>> AdjacentRuns(IEnumerable<IndexedBlob> blobs)
    {
        var run = new List<IndexedBlob>();
        long runBytes = 0;
        foreach (var blob in blobs.OrderBy(b => b.Offset))
        {
            if (run.Count > 0 && (run[^1].Offset + run[^1].Length != blob.Offset || runBytes + blob.Length > MaxReadSize))
            {
                yield return run;
                run = [];
                runBytes = 0;
            }

            run.Add(blob);
            runBytes += blob.Length;
        }

        if (run.Count > 0)
        {
            yield return run;
        }
    }

    // A delta blob is checked against its base, which must itself be readable: a repack never carries over a delta
    // whose base is gone (garbage collection keeps the bases of live deltas, so that would be damage).
    private async Task VerifyAsync(string key, IndexedBlob blob, ReadOnlyMemory<byte> stored, CancellationToken cancellationToken)
    {
        byte[]? baseRaw = null;
        if (blob.Codec == Compression.BlobCodec.Delta)
        {
            _index ??= await repository.LoadIndexAsync(cancellationToken).ConfigureAwait(false);
            var what = $"pack {key} in {repository.Store.Location}: blob {ContentId.Parse(blob.Id).ToShortString()}";
            try
            {
                var baseId = DeltaBlobs.BaseOf(repository.Cipher, stored.Span);
                baseRaw = await DeltaBlobs.ReadBaseAsync(repository, _index, baseId, blob.RawLength, what, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IntegrityException or InvalidDataException)
            {
                throw new IntegrityException($"{e.Message}; the repack stopped before deleting anything: run 'baton check --read-data'", e);
            }
        }

        try
        {
            Verify(key, blob, stored.Span, baseRaw);
        }
        finally
        {
            if (baseRaw is not null)
            {
                ArrayPool<byte>.Shared.Return(baseRaw);
            }
        }
    }

    private void Verify(string key, IndexedBlob blob, ReadOnlySpan<byte> stored, byte[]? baseRaw)
    {
        var raw = ArrayPool<byte>.Shared.Rent(blob.RawLength);
        try
        {
            string? problem = null;
            try
            {
                DeltaBlobs.Decode(repository.Cipher, blob.Codec, stored, raw.AsSpan(0, blob.RawLength), baseRaw is null ? default : baseRaw.AsSpan(0, blob.RawLength));
                if (repository.Cipher.ChunkId(raw.AsSpan(0, blob.RawLength)) != ContentId.Parse(blob.Id))
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
                throw new IntegrityException(
                    $"pack {key} in {repository.Store.Location}: blob {ContentId.Parse(blob.Id).ToShortString()} is corrupt ({problem}); the repack stopped before deleting anything: run 'baton check --read-data'");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    private async Task<(ContentId, long, IReadOnlyList<PackEntry>)> UploadAsync(PackBuilder builder, Dictionary<ContentId, ContentId> bases,
        CancellationToken cancellationToken)
    {
        using var pack = builder.Seal();
        await repository.Store.PutAsync(PackFormat.KeyOf(pack.Id), pack.Bytes, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
        // A delta's base is in its index entry, not in the pack header: it moves with the blob.
        return (pack.Id, pack.Length, pack.Entries.Select(e => bases.TryGetValue(e.Id, out var b) ? e with { Base = b } : e).ToList());
    }
}
