using System.Buffers;
using System.Collections.Concurrent;
using Baton.Index;
using Baton.Packs;
using Baton.Platform;
using Baton.Repositories;
using Baton.Storage;
using Microsoft.Win32.SafeHandles;

namespace Baton.Snapshots;

/// <summary>
/// Restores a snapshot. Every file is first written into a staging folder (beside the target where it can be, else
/// inside it), each chunk verified against its hash; only when the whole snapshot has been verified does the staging
/// folder take the target's place, in one step (<see cref="RestoreSwitch"/>). The target is only ever entirely old or
/// entirely new; a failed restore leaves it as it was, and a path or link that would escape it is refused before
/// anything is written. A target holding files is refused unless <see cref="RestoreOptions.Overwrite"/> is set.
/// </summary>
internal sealed class Restorer(Repository repository, RestoreOptions options)
{
    // A prune that repacks the packs a restore reads makes it load the index again; this many times at most.
    private const int MaxAttempts = 4;

    // A run of chunks read with one request stops at this many stored bytes, so that a file still spreads over
    // several transfers.
    private const long MaxRunBytes = 16L << 20;
    private const string StagingInfix = ReservedNames.RestoreStagingPrefix;

    private readonly ConcurrentDictionary<ContentId, bool> _unreadablePacks = new();
    private long _bytesDone;
    private long _filesDone;

    public async Task<RestoreResult> RestoreAsync(Snapshot snapshot, string directory, CancellationToken cancellationToken)
    {
        var what = $"snapshot {snapshot.Id} (run '{snapshot.Run}', #{snapshot.Sequence})";
        var entries = snapshot.Manifest.Entries;
        RestorePaths.CheckEntries(entries, what);
        if (File.Exists(directory))
        {
            throw new UsageException($"restore target '{directory}' is a file: give a directory");
        }

        var root = TargetPath(directory);
        if (Directory.Exists(root))
        {
            // A restore killed half-way through its switch is finished before the target is looked at.
            RestoreSwitch.Recover(root);
            if (!options.Overwrite && RestoreSwitch.UserEntries(root) is { Count: > 0 } present)
            {
                throw new UsageException(
                    $"restore target '{directory}' is not empty ({present.Count} entries, e.g. '{Path.GetFileName(present[0])}'): " +
                    "restore into an empty directory, or pass --overwrite to make it exactly the snapshot (its other files are removed)");
            }
        }

        Directory.CreateDirectory(root);
        var files = entries.Where(e => e.Kind == EntryKind.File).ToList();
        var totalBytes = files.Sum(f => f.Size);
        var index = await LoadIndexAsync(snapshot, files, what, directory, cancellationToken).ConfigureAwait(false);
        RemoveStaleStaging(root);
        var staging = CreateStaging(root);
        try
        {
            await DownloadAsync(snapshot, files, staging, index, totalBytes, what, directory, cancellationToken).ConfigureAwait(false);
            BuildTree(entries, staging, what);
            cancellationToken.ThrowIfCancellationRequested();
            RestoreSwitch.Switch(root, staging, options.KeepPrevious);
        }
        finally
        {
            // A switch that could not put the old content back left its journal: the staging folder finishes it.
            if (!File.Exists(Path.Combine(root, RestoreSwitch.JournalName)))
            {
                RestoreSwitch.TryDeleteDirectory(staging);
            }
        }

        return new RestoreResult(files.Count, totalBytes);
    }

    // The directory itself, not a link to it: a link named as the target restores into the folder it points to.
    private static string TargetPath(string directory)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        return Directory.Exists(root) && new DirectoryInfo(root).ResolveLinkTarget(returnFinalTarget: true) is { } real
            ? Path.TrimEndingDirectorySeparator(real.FullName)
            : root;
    }

    // Beside the target (same mount) the switch is one exchange of two directories; else staging goes inside it.
    // A target that is the working directory (`baton pull .`) keeps its inode, or the shell that ran the command
    // would be left in the old, removed directory.
    private static string CreateStaging(string root)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var current = Path.TrimEndingDirectorySeparator(Environment.CurrentDirectory);
        var holdsWorkingDirectory = string.Equals(current, root, StringComparison.Ordinal)
            || current.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        if (!holdsWorkingDirectory && Path.GetDirectoryName(root) is { } parent && DirectoryExchange.OnSameMount(parent, root))
        {
            var sibling = Path.Combine(parent, $".{Path.GetFileName(root)}{StagingInfix}{id}");
            try
            {
                Directory.CreateDirectory(sibling);
                return sibling;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A parent the user may not write: the journaled switch inside the target.
            }
        }

        var inside = Path.Combine(root, StagingInfix + id);
        Directory.CreateDirectory(inside);
        return inside;
    }

    // A restore killed earlier left its staging folder (up to a whole checkpoint of unverified bytes): drop it.
    private static void RemoveStaleStaging(string root)
    {
        // Only Baton's exact staging names: a journaled switch's aside folder, or a user's own '.baton-restore-...'
        // folder, is not a leftover.
        foreach (var stale in Directory.EnumerateDirectories(root, StagingInfix + "*").Where(d => ReservedNames.IsRestoreStaging(Path.GetFileName(d))))
        {
            RestoreSwitch.TryDeleteDirectory(stale);
        }

        if (Path.GetDirectoryName(root) is { } parent)
        {
            try
            {
                var ownPrefix = "." + Path.GetFileName(root);
                foreach (var stale in Directory.EnumerateDirectories(parent, $"{ownPrefix}{StagingInfix}*")
                    .Where(d => ReservedNames.IsRestoreStaging(Path.GetFileName(d)[ownPrefix.Length..])))
                {
                    RestoreSwitch.TryDeleteDirectory(stale);
                }
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    // The index, with every chunk of the snapshot in it.
    private async Task<MasterIndex> LoadIndexAsync(Snapshot snapshot, List<SnapshotEntry> files, string what, string directory, CancellationToken cancellationToken)
    {
        var index = await repository.LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        foreach (var file in files)
        {
            foreach (var chunk in file.Chunks ?? [])
            {
                IntegrityException? missing = null;
                if (!ContentId.TryParse(chunk, out var id) || !index.TryGet(id, out var location))
                {
                    missing = new IntegrityException($"{what}: file '{file.Path}' needs chunk {chunk}, which is not in the repository");
                }
                else if (location.Entry is { Codec: Compression.BlobCodec.Delta, Base: { } baseId } && !index.Contains(baseId))
                {
                    missing = new IntegrityException($"{what}: file '{file.Path}' needs chunk {chunk}, a delta of chunk {baseId}, which is not in the repository");
                }

                if (missing is not null)
                {
                    throw await SnapshotGoneAsync(snapshot, cancellationToken).ConfigureAwait(false) ? Pruned(what, directory, missing) : missing;
                }
            }
        }

        return index;
    }

    private async Task DownloadAsync(Snapshot snapshot, List<SnapshotEntry> files, string staging, MasterIndex index, long totalBytes, string what, string directory,
        CancellationToken cancellationToken)
    {
        var done = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var concurrency = Math.Max(2, options.Concurrency ?? repository.Store.Capabilities.Concurrency);

        // Chunks in flight: the store's transfers plus one per core, so that decoding and verifying go on while
        // transfers wait (the store's own limit still caps the transfers).
        var inFlight = concurrency + Environment.ProcessorCount;
        using var slots = new SemaphoreSlim(inFlight);
        for (var attempt = 1; ; attempt++)
        {
            _unreadablePacks.Clear();
            try
            {
                await Parallel.ForEachAsync(files.Where(f => !done.ContainsKey(f.Path)), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                    async (file, ct) =>
                    {
                        await RestoreFileAsync(file, Path.Combine(staging, file.Path), index, slots, inFlight, what, ct).ConfigureAwait(false);
                        done[file.Path] = true;
                        Interlocked.Increment(ref _filesDone);
                        options.Progress?.Report(new TransferProgress(Interlocked.Read(ref _bytesDone), totalBytes, Interlocked.Read(ref _filesDone), files.Count));
                    }).ConfigureAwait(false);
                return;
            }
            catch (IntegrityException e) when (e.InnerException is StoreException)
            {
                if (await SnapshotGoneAsync(snapshot, cancellationToken).ConfigureAwait(false))
                {
                    throw Pruned(what, directory, e);
                }

                // A prune that repacked a pack this restore reads wrote a new index naming the new pack before it
                // deleted the old one: a pack the fresh index no longer names moved, it is not lost.
                var fresh = await LoadIndexAsync(snapshot, files, what, directory, cancellationToken).ConfigureAwait(false);
                if (_unreadablePacks.Keys.Any(fresh.Packs.ContainsKey))
                {
                    throw;
                }

                if (attempt == MaxAttempts)
                {
                    throw new ConflictException(
                        $"{what}: the store kept changing while it was restored (prunes repacked its data {MaxAttempts} times); '{directory}' was left as it was: run the restore again", e);
                }

                index = fresh;
            }
        }
    }

    // A prune that forgot the snapshot meanwhile deletes the chunks only it held: a race lost, not a damaged store.
    private async Task<bool> SnapshotGoneAsync(Snapshot snapshot, CancellationToken cancellationToken) =>
        await repository.Store.StatAsync(repository.SnapshotKey(snapshot.Run, snapshot.Sequence), cancellationToken).ConfigureAwait(false) is null;

    private static ConflictException Pruned(string what, string directory, IntegrityException missing) =>
        new($"{what} was removed by a prune while it was being restored; '{directory}' was left as it was: restore again to get the run's newest snapshot", missing);

    private async Task RestoreFileAsync(SnapshotEntry file, string path, MasterIndex index, SemaphoreSlim slots, int concurrency, string what, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous, preallocationSize: file.Size))
        {
            var chunks = file.Chunks ?? [];
            var locations = new BlobLocation[chunks.Count];
            var offsets = new long[chunks.Count];
            long offset = 0;
            for (var i = 0; i < chunks.Count; i++)
            {
                offsets[i] = offset;
                index.TryGet(ContentId.Parse(chunks[i]), out locations[i]);
                offset += locations[i].Entry.RawLength;
            }

            if (offset != file.Size)
            {
                throw new IntegrityException($"{what}: file '{file.Path}' is recorded as {file.Size} bytes but its chunks add up to {offset}");
            }

            // The shared semaphore bounds transfers across all files; this only bounds the tasks of one file.
            await Parallel.ForEachAsync(ReadRuns(locations), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (run, ct) =>
                {
                    await slots.WaitAsync(ct).ConfigureAwait(false);
                    try
                    {
                        await RestoreRunAsync(handle, offsets, locations, run, index, file, what, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }).ConfigureAwait(false);

            if (RandomAccess.GetLength(handle) != file.Size)
            {
                RandomAccess.SetLength(handle, file.Size);
            }

            RandomAccess.FlushToDisk(handle);
        }

        if (!OperatingSystem.IsWindows() && file.Mode != 0)
        {
            File.SetUnixFileMode(path, (UnixFileMode)(file.Mode & 0xFFF));
        }

        File.SetLastWriteTimeUtc(path, new DateTime(DateTime.UnixEpoch.Ticks + file.MTime, DateTimeKind.Utc));
    }

    // Chunks of a file that lie back to back in one pack are read with one ranged read, in pack order whatever their
    // order in the file (parallel encoders may store neighbours out of order): a network store then serves one request
    // per run instead of one per chunk. A run is read as a stream, chunk by chunk, so a slot still holds one chunk's
    // buffers.
    internal static IEnumerable<int[]> ReadRuns(IReadOnlyList<BlobLocation> locations)
    {
        var order = Enumerable.Range(0, locations.Count)
            .OrderBy(i => locations[i].PackId).ThenBy(i => locations[i].Entry.Offset).ToArray();
        var run = new List<int>();
        long bytes = 0;
        foreach (var i in order)
        {
            var entry = locations[i].Entry;
            if (run.Count > 0)
            {
                var previous = locations[run[^1]];
                var follows = previous.PackId == locations[i].PackId && previous.Entry.Offset + previous.Entry.Length == entry.Offset;
                if (!follows || bytes + entry.Length > MaxRunBytes || IsDelta(previous) || IsDelta(locations[i]))
                {
                    yield return [.. run];
                    (run, bytes) = ([], 0);
                }
            }

            run.Add(i);
            bytes += entry.Length;
        }

        if (run.Count > 0)
        {
            yield return [.. run];
        }
    }

    // A delta chunk is a run of its own, read and closed before its base is read: an open read holds one of the
    // store's transfers, and runs that all waited for a base would hold every one.
    private static bool IsDelta(BlobLocation location) => location.Entry.Codec == Compression.BlobCodec.Delta;

    private async Task RestoreRunAsync(SafeFileHandle handle, long[] offsets, BlobLocation[] locations, int[] run, MasterIndex index,
        SnapshotEntry file, string what, CancellationToken cancellationToken)
    {
        var start = locations[run[0]];
        var last = locations[run[^1]].Entry;
        var key = PackFormat.KeyOf(start.PackId);
        var from = start.Entry.Offset;
        try
        {
            await using var stream = await repository.Store.OpenReadAsync(key, from, last.Offset + last.Length - from, cancellationToken).ConfigureAwait(false);
            foreach (var i in run)
            {
                var entry = locations[i].Entry;

                // Pooled buffers for the encoded and the decoded bytes: no large allocation per chunk.
                var encoded = ArrayPool<byte>.Shared.Rent(entry.Length);
                byte[]? baseRaw = null;
                try
                {
                    var read = await stream.ReadAtLeastAsync(encoded.AsMemory(0, entry.Length), entry.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                    if (read != entry.Length)
                    {
                        throw new StoreException(StoreErrorReason.Transient, repository.Store.Location, key,
                            $"short read of '{key}' in {repository.Store.Location}: wanted {entry.Length} bytes at offset {entry.Offset}, got {read}");
                    }

                    if (entry.Codec == Compression.BlobCodec.Delta)
                    {
                        await stream.DisposeAsync().ConfigureAwait(false);
                        baseRaw = await ReadBaseAsync(index, entry, encoded.AsMemory(0, entry.Length), key, file, what, cancellationToken).ConfigureAwait(false);
                    }

                    await DecodeVerifyWriteAsync(handle, offsets[i], entry, encoded.AsMemory(0, entry.Length), baseRaw, key, file, what, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(encoded);
                    if (baseRaw is not null)
                    {
                        ArrayPool<byte>.Shared.Return(baseRaw);
                    }
                }
            }
        }
        catch (StoreException e) when (e.Reason is StoreErrorReason.NotFound or StoreErrorReason.Transient)
        {
            _unreadablePacks.TryAdd(start.PackId, true);
            throw new IntegrityException($"{what}: file '{file.Path}' needs pack {key}, which is missing or short in {repository.Store.Location}", e);
        }
    }

    // The verified raw bytes of a delta chunk's base (one read of the base per delta chunk).
    private async Task<byte[]> ReadBaseAsync(MasterIndex index, PackEntry entry, ReadOnlyMemory<byte> encoded, string key, SnapshotEntry file, string what,
        CancellationToken cancellationToken)
    {
        ContentId baseId;
        try
        {
            baseId = entry.Base ?? DeltaBlobs.BaseOf(repository.Cipher, encoded.Span);
        }
        catch (InvalidDataException e)
        {
            throw new IntegrityException($"{what}: file '{file.Path}': chunk {entry.Id.ToShortString()} in pack {key} is corrupt ({e.Message})", e);
        }

        var delta = $"{what}: file '{file.Path}': chunk {entry.Id}";
        var location = DeltaBlobs.LocateBase(index, baseId, entry.RawLength, delta);
        try
        {
            return await DeltaBlobs.ReadBaseAsync(repository, index, baseId, entry.RawLength, delta, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason is StoreErrorReason.NotFound or StoreErrorReason.Transient)
        {
            _unreadablePacks.TryAdd(location.PackId, true);
            var baseKey = PackFormat.KeyOf(location.PackId);
            throw new IntegrityException($"{delta} is a delta of chunk {baseId}, whose pack {baseKey} is missing or short in {repository.Store.Location}", e);
        }
    }

    private async Task DecodeVerifyWriteAsync(SafeFileHandle handle, long offset, PackEntry entry, ReadOnlyMemory<byte> encoded, byte[]? baseRaw, string key,
        SnapshotEntry file, string what, CancellationToken cancellationToken)
    {
        var raw = ArrayPool<byte>.Shared.Rent(entry.RawLength);
        try
        {
            try
            {
                DeltaBlobs.Decode(repository.Cipher, entry.Codec, encoded.Span, raw.AsSpan(0, entry.RawLength),
                    baseRaw is null ? default : baseRaw.AsSpan(0, entry.RawLength));
            }
            catch (InvalidDataException e)
            {
                throw new IntegrityException($"{what}: file '{file.Path}': chunk {entry.Id.ToShortString()} in pack {key} is corrupt ({e.Message})", e);
            }

            if (repository.Cipher.ChunkId(raw.AsSpan(0, entry.RawLength)) != entry.Id)
            {
                throw new IntegrityException($"{what}: file '{file.Path}': chunk {entry.Id.ToShortString()} in pack {key} is corrupt (hash mismatch)");
            }

            await RandomAccess.WriteAsync(handle, raw.AsMemory(0, entry.RawLength), offset, cancellationToken).ConfigureAwait(false);

            // The file is flushed to disk before it is moved into place; starting now lets the disk write while the
            // other chunks are fetched and decoded, instead of all at the end.
            Platform.DirectIo.StartWriteback(handle, offset, entry.RawLength);
            Interlocked.Add(ref _bytesDone, entry.RawLength);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    // Directories, links, modes and times, inside the staging folder; everything flushed before the switch.
    private static void BuildTree(List<SnapshotEntry> entries, string staging, string what)
    {
        foreach (var entry in entries.Where(e => e.Kind == EntryKind.Directory))
        {
            Directory.CreateDirectory(RestorePaths.Resolve(staging, entry.Path, what));
        }

        foreach (var entry in entries.Where(e => e.Kind == EntryKind.Link))
        {
            var target = RestorePaths.Resolve(staging, entry.Path, what);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.CreateSymbolicLink(target, entry.Target!);
        }

        // Deepest first, once their contents are in place, so that writing files does not move the times again.
        var directories = entries.Where(e => e.Kind == EntryKind.Directory).OrderByDescending(e => e.Path.Count(c => c == '/')).ToList();
        foreach (var entry in directories)
        {
            var target = RestorePaths.Resolve(staging, entry.Path, what);
            PosixFile.SyncDirectory(target);
            if (!OperatingSystem.IsWindows() && entry.Mode != 0)
            {
                File.SetUnixFileMode(target, (UnixFileMode)(entry.Mode & 0xFFF));
            }

            Directory.SetLastWriteTimeUtc(target, new DateTime(DateTime.UnixEpoch.Ticks + entry.MTime, DateTimeKind.Utc));
        }

        foreach (var parent in entries.Where(e => e.Kind != EntryKind.Directory).Select(e => Path.GetDirectoryName(Path.Combine(staging, e.Path))!).Distinct(StringComparer.Ordinal))
        {
            PosixFile.SyncDirectory(parent);
        }
    }
}
