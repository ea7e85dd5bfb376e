using System.Buffers;
using Baton.Index;
using Baton.Packs;
using Baton.Repositories;
using Baton.Storage;
using Microsoft.Win32.SafeHandles;

namespace Baton.Snapshots;

/// <summary>
/// Restores a snapshot. Every file is first written into a staging folder inside the target, each chunk verified
/// against its hash; only when the whole snapshot has been verified are the files moved into place. A failed restore
/// leaves the target as it was, and a path or link that would escape the target is refused before anything is written.
/// </summary>
internal sealed class Restorer(Repository repository, RestoreOptions options)
{
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

        // Refuse a target whose existing folders are links before anything is written, not halfway through the move.
        var root = Path.GetFullPath(directory);
        foreach (var entry in entries)
        {
            RestorePaths.Resolve(root, entry.Path, what);
        }

        Directory.CreateDirectory(root);
        var index = await repository.LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        var files = entries.Where(e => e.Kind == EntryKind.File).ToList();
        var totalBytes = files.Sum(f => f.Size);
        foreach (var file in files)
        {
            foreach (var chunk in file.Chunks ?? [])
            {
                if (!ContentId.TryParse(chunk, out var id) || !index.Contains(id))
                {
                    var missing = new IntegrityException($"{what}: file '{file.Path}' needs chunk {chunk}, which is not in the repository");
                    throw await SnapshotGoneAsync(snapshot, cancellationToken).ConfigureAwait(false) ? Pruned(what, directory, missing) : missing;
                }
            }
        }

        // A restore killed earlier left its staging folder (up to a whole checkpoint of unverified bytes): drop it.
        // Only Baton's exact staging names: a user's own '.baton-restore-...' folder is not ours to delete.
        foreach (var stale in Directory.EnumerateDirectories(root, ReservedNames.RestoreStagingPrefix + "*").Where(d => ReservedNames.IsRestoreStaging(Path.GetFileName(d))))
        {
            TryDeleteDirectory(stale);
        }

        var staging = Path.Combine(root, ReservedNames.NewRestoreStaging());
        Directory.CreateDirectory(staging);
        try
        {
            var concurrency = Math.Max(2, options.Concurrency ?? repository.Store.Capabilities.Concurrency);

            // Chunks in flight: the store's transfers plus one per core, so that decoding and verifying go on while
            // transfers wait (the store's own limit still caps the transfers).
            var inFlight = concurrency + Environment.ProcessorCount;
            using var slots = new SemaphoreSlim(inFlight);
            await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (file, ct) =>
                {
                    await RestoreFileAsync(file, Path.Combine(staging, file.Path), index, slots, inFlight, what, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref _filesDone);
                    options.Progress?.Report(new TransferProgress(Interlocked.Read(ref _bytesDone), totalBytes, Interlocked.Read(ref _filesDone), files.Count));
                }).ConfigureAwait(false);

            MoveIntoPlace(entries, staging, root, what);
        }
        catch (IntegrityException e) when (e.InnerException is StoreException)
        {
            if (await SnapshotGoneAsync(snapshot, cancellationToken).ConfigureAwait(false))
            {
                throw Pruned(what, directory, e);
            }

            throw;
        }
        finally
        {
            TryDeleteDirectory(staging);
        }

        return new RestoreResult(files.Count, totalBytes);
    }

    // A prune that forgot the snapshot meanwhile deletes the chunks only it held: a race lost, not a damaged store.
    private async Task<bool> SnapshotGoneAsync(Snapshot snapshot, CancellationToken cancellationToken) =>
        await repository.Store.StatAsync(repository.SnapshotKey(snapshot.Run, snapshot.Sequence), cancellationToken).ConfigureAwait(false) is null;

    private static ConflictException Pruned(string what, string directory, IntegrityException missing) =>
        new($"{what} was removed by a prune while it was being restored; '{directory}' was left as it was: restore again to get the run's newest snapshot", missing);

    private async Task RestoreFileAsync(SnapshotEntry file, string path, MasterIndex index, SemaphoreSlim slots, int concurrency, string what, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous, preallocationSize: file.Size))
        {
            var chunks = file.Chunks ?? [];
            var offsets = new long[chunks.Count];
            long offset = 0;
            for (var i = 0; i < chunks.Count; i++)
            {
                offsets[i] = offset;
                index.TryGet(ContentId.Parse(chunks[i]), out var location);
                offset += location.Entry.RawLength;
            }

            if (offset != file.Size)
            {
                throw new IntegrityException($"{what}: file '{file.Path}' is recorded as {file.Size} bytes but its chunks add up to {offset}");
            }

            // The shared semaphore bounds transfers across all files; this only bounds the tasks of one file.
            await Parallel.ForEachAsync(Enumerable.Range(0, chunks.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    await slots.WaitAsync(ct).ConfigureAwait(false);
                    try
                    {
                        index.TryGet(ContentId.Parse(chunks[i]), out var location);
                        await RestoreChunkAsync(handle, offsets[i], location, file, what, ct).ConfigureAwait(false);
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

    private async Task RestoreChunkAsync(SafeFileHandle handle, long offset, BlobLocation location, SnapshotEntry file, string what, CancellationToken cancellationToken)
    {
        var entry = location.Entry;
        var key = PackFormat.KeyOf(location.PackId);

        // Pooled buffers for the encoded and the decoded bytes: no large allocation per chunk.
        var encoded = ArrayPool<byte>.Shared.Rent(entry.Length);
        try
        {
            await ReadRangeAsync(key, entry.Offset, encoded.AsMemory(0, entry.Length), cancellationToken).ConfigureAwait(false);
            await DecodeVerifyWriteAsync(handle, offset, entry, encoded.AsMemory(0, entry.Length), key, file, what, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason is StoreErrorReason.NotFound or StoreErrorReason.Transient)
        {
            throw new IntegrityException($"{what}: file '{file.Path}' needs pack {key}, which is missing or short in {repository.Store.Location}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(encoded);
        }
    }

    private async Task ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await using var stream = await repository.Store.OpenReadAsync(key, offset, buffer.Length, cancellationToken).ConfigureAwait(false);
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read != buffer.Length)
        {
            throw new StoreException(StoreErrorReason.Transient, repository.Store.Location, key,
                $"short read of '{key}' in {repository.Store.Location}: wanted {buffer.Length} bytes at offset {offset}, got {read}");
        }
    }

    private async Task DecodeVerifyWriteAsync(SafeFileHandle handle, long offset, PackEntry entry, ReadOnlyMemory<byte> encoded, string key, SnapshotEntry file, string what, CancellationToken cancellationToken)
    {
        var raw = ArrayPool<byte>.Shared.Rent(entry.RawLength);
        try
        {
            try
            {
                repository.Cipher.DecodeBlob(entry.Codec, encoded.Span, raw.AsSpan(0, entry.RawLength));
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

    private static void MoveIntoPlace(List<SnapshotEntry> entries, string staging, string root, string what)
    {
        foreach (var entry in entries.Where(e => e.Kind == EntryKind.Directory))
        {
            // A file or a link in the way is replaced (deleting a link never touches what it points to).
            var target = RestorePaths.Resolve(root, entry.Path, what);
            if (File.Exists(target) || new FileInfo(target).LinkTarget is not null)
            {
                File.Delete(target);
            }

            Directory.CreateDirectory(target);
        }

        foreach (var entry in entries.Where(e => e.Kind == EntryKind.File))
        {
            var target = RestorePaths.Resolve(root, entry.Path, what);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Directory.Exists(target) && new DirectoryInfo(target).LinkTarget is null)
            {
                Directory.Delete(target, recursive: true);
            }

            File.Move(Path.Combine(staging, entry.Path), target, overwrite: true);
        }

        foreach (var entry in entries.Where(e => e.Kind == EntryKind.Link))
        {
            var target = RestorePaths.Resolve(root, entry.Path, what);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (File.Exists(target) || new FileInfo(target).LinkTarget is not null)
            {
                File.Delete(target);
            }

            File.CreateSymbolicLink(target, entry.Target!);
        }

        // Deepest first, once their contents are in place, so that moving files in does not move the times again.
        foreach (var entry in entries.Where(e => e.Kind == EntryKind.Directory).OrderByDescending(e => e.Path.Count(c => c == '/')))
        {
            var target = RestorePaths.Resolve(root, entry.Path, what);
            if (!OperatingSystem.IsWindows() && entry.Mode != 0)
            {
                File.SetUnixFileMode(target, (UnixFileMode)(entry.Mode & 0xFFF));
            }

            Directory.SetLastWriteTimeUtc(target, new DateTime(DateTime.UnixEpoch.Ticks + entry.MTime, DateTimeKind.Utc));
        }

        Platform.PosixFile.SyncDirectory(root);
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
