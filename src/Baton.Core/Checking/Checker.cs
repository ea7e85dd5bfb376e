using System.Buffers;
using Baton.Index;
using Baton.Packs;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Checking;

/// <summary>What <see cref="Checker"/> found.</summary>
public sealed record CheckReport
{
    /// <summary>Problems that make data unrestorable: missing or corrupt objects. Each names the object.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Keys of the packs found missing, of the wrong size or corrupt: <c>baton repair</c> drops them from the index.</summary>
    public SortedSet<string> DamagedPacks { get; } = new(StringComparer.Ordinal);

    /// <summary>Ids of the blobs found corrupt (their bytes do not decode or do not match the id).</summary>
    internal HashSet<ContentId> CorruptBlobs { get; } = [];

    /// <summary>Harmless findings, such as packs left by an interrupted push.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Snapshots checked.</summary>
    public int Snapshots { get; set; }

    /// <summary>Packs in the store.</summary>
    public int Packs { get; set; }

    /// <summary>Blobs in the index.</summary>
    public int Blobs { get; set; }

    /// <summary>Bytes read and verified with <c>--read-data</c>.</summary>
    public long BytesVerified { get; set; }

    /// <summary>Whether no error was found.</summary>
    public bool IsHealthy => Errors.Count == 0;
}

/// <summary>
/// Verifies a repository: every index object and manifest parses and matches its checksum, every pack the index
/// names exists with the right size, every chunk a snapshot names is indexed; with <c>readData</c> every pack is
/// downloaded, its header checked against its name and every blob in it decoded and verified against its id.
/// </summary>
/// <param name="repository">The opened repository to work on.</param>
public sealed partial class Checker(Repository repository)
{
    // The index for finding delta bases when a caller verifies packs without giving one.
    private MasterIndex? _index;

    /// <summary>Runs the check. Never throws for problems in the data: they go into the report.</summary>
    public async Task<CheckReport> CheckAsync(bool readData, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var report = new CheckReport();
        var store = repository.Store;
        var stored = new Dictionary<ContentId, long>();
        await foreach (var info in store.ListAsync(RepositoryLayout.DataPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (PackFormat.TryParseKey(info.Key, out var id))
            {
                stored[id] = info.Size;
            }
            else
            {
                report.Warnings.Add($"unexpected object '{info.Key}' under data/");
            }
        }

        report.Packs = stored.Count;
        var index = new MasterIndex();
        var packEntries = new Dictionary<ContentId, IndexedPack>();
        foreach (var info in (await store.ListAllAsync(RepositoryLayout.IndexPrefix, cancellationToken).ConfigureAwait(false)).OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            try
            {
                var file = await repository.ReadIndexFileAsync(info.Key, cancellationToken).ConfigureAwait(false);
                index.Add(file);
                foreach (var pack in file.Packs)
                {
                    packEntries.TryAdd(ContentId.Parse(pack.Id), pack);
                }
            }
            catch (BatonException e) when (IsDamage(e))
            {
                report.Errors.Add(e.Message);
            }
        }

        report.Blobs = index.BlobCount;
        foreach (var (packId, size) in index.Packs)
        {
            if (!stored.TryGetValue(packId, out var actual))
            {
                report.Errors.Add($"pack {PackFormat.KeyOf(packId)} is named by the index but missing from the store");
                report.DamagedPacks.Add(PackFormat.KeyOf(packId));
            }
            else if (actual != size)
            {
                report.Errors.Add($"pack {PackFormat.KeyOf(packId)} has {actual} bytes, the index says {size}");
                report.DamagedPacks.Add(PackFormat.KeyOf(packId));
            }
        }

        foreach (var packId in stored.Keys.Where(p => !index.Packs.ContainsKey(p)))
        {
            report.Warnings.Add($"pack {PackFormat.KeyOf(packId)} is not indexed (left by an interrupted push; prune removes it)");
        }

        await CheckSnapshotsAsync(index, report, cancellationToken).ConfigureAwait(false);
        await CheckMetadataAsync(report, cancellationToken).ConfigureAwait(false);
        if (readData)
        {
            var total = index.Packs.Where(p => stored.ContainsKey(p.Key)).Sum(p => p.Value);
            foreach (var (packId, pack) in packEntries.Where(p => stored.ContainsKey(p.Key)))
            {
                await VerifyPackAsync(packId, pack, report, cancellationToken, index).ConfigureAwait(false);
                progress?.Report(new TransferProgress(report.BytesVerified, total, 0, 0));
            }
        }

        return report;
    }

    private async Task CheckSnapshotsAsync(MasterIndex index, CheckReport report, CancellationToken cancellationToken)
    {
        var keys = await repository.Store.ListAllAsync(RepositoryLayout.RunsPrefix, cancellationToken).ConfigureAwait(false);
        foreach (var info in keys.Where(k => k.Key.Contains($"/{RepositoryLayout.SnapshotsFolder}/", StringComparison.Ordinal)).OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            Snapshot snapshot;
            try
            {
                snapshot = await repository.ReadSnapshotAsync(info.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (BatonException e) when (IsDamage(e))
            {
                report.Errors.Add(e.Message);
                continue;
            }

            report.Snapshots++;
            try
            {
                RestorePaths.CheckEntries(snapshot.Manifest.Entries, $"snapshot {snapshot.Id} (run '{snapshot.Run}', #{snapshot.Sequence})");
            }
            catch (IntegrityException e)
            {
                report.Errors.Add(e.Message);
            }

            foreach (var entry in snapshot.Manifest.Entries)
            {
                CheckChunks(snapshot, entry, index, report);
            }
        }
    }

    // A damaged object (ours or the store's checksum), or one a newer baton wrote: reported, and the check goes on.
    private static bool IsDamage(BatonException e) => e.Category is ErrorCategory.Integrity or ErrorCategory.Failure;

    private static void CheckChunks(Snapshot snapshot, SnapshotEntry entry, MasterIndex index, CheckReport report)
    {
        long bytes = 0;
        foreach (var chunk in entry.Chunks ?? [])
        {
            if (!ContentId.TryParse(chunk, out var id) || !index.TryGet(id, out var location))
            {
                report.Errors.Add($"snapshot {snapshot.Id} (run '{snapshot.Run}', #{snapshot.Sequence}): file '{entry.Path}' references chunk {chunk}, which is not in the repository");
                return;
            }

            if (location.Entry is { Codec: Compression.BlobCodec.Delta, Base: { } baseId } && !index.Contains(baseId))
            {
                report.Errors.Add($"snapshot {snapshot.Id} (run '{snapshot.Run}', #{snapshot.Sequence}): file '{entry.Path}' references chunk {chunk}, a delta of chunk {baseId}, which is not in the repository");
                return;
            }

            bytes += location.Entry.RawLength;
        }

        // A size that its chunks do not add up to fails the restore of that file: say so before it is needed.
        if (bytes != entry.Size)
        {
            report.Errors.Add($"snapshot {snapshot.Id} (run '{snapshot.Run}', #{snapshot.Sequence}): file '{entry.Path}' is recorded as {entry.Size} bytes but its chunks add up to {bytes}");
        }
    }

    /// <summary>
    /// Downloads one pack and verifies its header and every blob; problems go into <paramref name="report"/>. A delta
    /// blob is verified against its base, found through <paramref name="index"/> (the repository's, loaded once, when
    /// none is given).
    /// </summary>
    internal async Task VerifyPackAsync(ContentId packId, IndexedPack indexed, CheckReport report, CancellationToken cancellationToken, MasterIndex? index = null)
    {
        var key = PackFormat.KeyOf(packId);
        byte[] data;
        try
        {
            data = await repository.Store.ReadAllAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
        {
            return; // already reported as missing
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.Corrupt)
        {
            // The store's own checksum caught the damage before ours could: report it and go on with the next pack.
            report.Errors.Add($"pack {key} is corrupt: {e.Message}");
            return;
        }

        report.BytesVerified += data.Length;
        List<PackEntry> header;
        try
        {
            if (PackFormat.IdOf(data, repository.Cipher) != packId)
            {
                // Nothing in a header that does not match its name can be trusted, not even the blob lengths.
                report.Errors.Add($"pack {key} is corrupt: its header does not match its name");
                report.DamagedPacks.Add(key);
                return;
            }

            header = PackFormat.ReadHeader(data, repository.Cipher);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or OverflowException)
        {
            report.Errors.Add($"pack {key} is corrupt: {e.Message}");
            report.DamagedPacks.Add(key);
            return;
        }

        var byId = new Dictionary<ContentId, PackEntry>();
        foreach (var entry in header)
        {
            byId.TryAdd(entry.Id, entry);
        }

        foreach (var blob in indexed.Blobs)
        {
            var id = ContentId.Parse(blob.Id);
            if (!byId.TryGetValue(id, out var entry) || entry.Offset != blob.Offset || entry.Length != blob.Length)
            {
                report.Errors.Add($"pack {key}: blob {id.ToShortString()} is not where the index says");
                report.DamagedPacks.Add(key);
            }
        }

        // The name covers the header only, so every blob's bytes are checked against their id, indexed or not.
        foreach (var entry in header)
        {
            byte[]? baseRaw = null;
            if (entry.Codec == Compression.BlobCodec.Delta)
            {
                index ??= _index ??= await repository.LoadIndexAsync(cancellationToken).ConfigureAwait(false);
                baseRaw = await ReadBaseAsync(key, entry, data, index, report, cancellationToken).ConfigureAwait(false);
                if (baseRaw is null)
                {
                    continue;
                }
            }

            VerifyBlob(key, entry, data, baseRaw, report);
        }
    }

    // The verified base of a delta blob (named by the blob's own first bytes), or null with the problem reported: a
    // base that is missing, unreadable or corrupt makes the delta unrestorable, as data missing.
    private async Task<byte[]?> ReadBaseAsync(string key, PackEntry entry, byte[] data, MasterIndex index, CheckReport report, CancellationToken cancellationToken)
    {
        try
        {
            var baseId = DeltaBlobs.BaseOf(repository.Cipher, data.AsSpan((int)entry.Offset, entry.Length));
            return await DeltaBlobs.ReadBaseAsync(repository, index, baseId, entry.RawLength, $"pack {key}: blob {entry.Id}", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IntegrityException or InvalidDataException or StoreException { Reason: StoreErrorReason.NotFound or StoreErrorReason.Transient or StoreErrorReason.Corrupt })
        {
            if (index.TryGet(entry.Id, out var plain) && plain.Entry.Codec != Compression.BlobCodec.Delta)
            {
                // Stored again plainly by a push whose base a collection took: readers use that copy; prune drops this one.
                report.Warnings.Add($"pack {key}: blob {entry.Id.ToShortString()} is a delta that cannot be read ({e.Message}); the chunk is also stored plainly in pack {PackFormat.KeyOf(plain.PackId)}, which readers use");
                return null;
            }

            report.Errors.Add(e is IntegrityException ? e.Message : $"pack {key}: blob {entry.Id.ToShortString()} cannot be verified: {e.Message}");
            report.CorruptBlobs.Add(entry.Id);
            return null;
        }
    }

    private void VerifyBlob(string key, in PackEntry entry, byte[] data, byte[]? baseRaw, CheckReport report)
    {
        var raw = ArrayPool<byte>.Shared.Rent(entry.RawLength);
        try
        {
            DeltaBlobs.Decode(repository.Cipher, entry.Codec, data.AsSpan((int)entry.Offset, entry.Length), raw.AsSpan(0, entry.RawLength),
                baseRaw is null ? default : baseRaw.AsSpan(0, entry.RawLength));
            if (repository.Cipher.ChunkId(raw.AsSpan(0, entry.RawLength)) != entry.Id)
            {
                report.Errors.Add($"pack {key}: blob {entry.Id.ToShortString()} is corrupt (hash mismatch)");
                report.DamagedPacks.Add(key);
                report.CorruptBlobs.Add(entry.Id);
            }
        }
        catch (InvalidDataException e)
        {
            report.Errors.Add($"pack {key}: blob {entry.Id.ToShortString()} is corrupt ({e.Message})");
            report.DamagedPacks.Add(key);
            report.CorruptBlobs.Add(entry.Id);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
            if (baseRaw is not null)
            {
                ArrayPool<byte>.Shared.Return(baseRaw);
            }
        }
    }
}
