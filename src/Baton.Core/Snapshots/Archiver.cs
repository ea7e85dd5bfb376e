using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Baton.Compression;
using Baton.Index;
using Baton.Packs;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Snapshots;

/// <summary>
/// Writes one snapshot: read → chunk → (hash, compress) → pack → upload, with bounded channels between the stages
/// so memory stays flat whatever the checkpoint size. Commit order: packs, then the index, then the manifest.
/// </summary>
internal sealed partial class Archiver
{
    private readonly Repository _repository;
    private readonly PushOptions _options;
    private readonly BlobCompressor _compressor;
    private readonly ConcurrentDictionary<ContentId, byte> _claimed = new();

    // Deltas against the parent snapshot (codec 5) are written only where fewer bytes matter more than CPU.
    private readonly bool _deltas;

    // The base of each chunk this push stored as a delta, for its index entry.
    private readonly ConcurrentDictionary<ContentId, ContentId> _bases = new();
    private List<FileWork> _work = [];

    // The push's own pool for chunk, encoded and pack buffers. The shared pool keeps one array per size and thread
    // in thread-local slots, and async stages hop threads, so large buffers piled up there and grew the resident
    // set; this one has no thread-local slots and keeps a bounded number of arrays.
    private readonly ArrayPool<byte> _buffers = ArrayPool<byte>.Create(maxArrayLength: 128 << 20, maxArraysPerBucket: 8);
    private readonly List<SealedPackInfo> _written = [];
    private long _bytesRead;
    private long _bytesNew;
    private long _bytesStored;
    private long _filesDone;
    private long _bytesSkipped;
    private long _totalBytes;
    private long _totalFiles;

    private readonly Maintenance.InFlightMarker? _marker;

    // Where the stages run. Their awaits keep to it (ConfigureAwait(true): a stage runs on a scheduler's thread and
    // has no synchronization context), so that a lowered push does not drift onto the shared pool after its first wait.
    private readonly TaskScheduler _scheduler;

    public Archiver(Repository repository, PushOptions options, Maintenance.InFlightMarker? marker = null)
    {
        _repository = repository;
        _options = options;
        _marker = marker;
        _compressor = new BlobCompressor(options.CompressionLevel, CompressionChoices.Resolve(options.Compression, repository.Store.Capabilities));
        _deltas = _compressor.Compression == CompressionChoice.Small && options.Deltas;
        _scheduler = Platform.BackgroundThreads.For(options.Priority);
    }

    public async Task<Snapshot> PushAsync(string directory, string run, CancellationToken cancellationToken)
    {
        RepositoryLayout.ValidateRunName(run);
        if (!Directory.Exists(directory))
        {
            throw new UsageException(File.Exists(directory)
                ? $"'{directory}' is a file: push takes a directory"
                : $"directory '{directory}' does not exist");
        }

        var clock = Stopwatch.StartNew();
        var root = Path.GetFullPath(directory);
        List<ScannedEntry> entries;
        try
        {
            entries = DirectoryScanner.Scan(root, _options.Include, _options.OnReservedNameSkipped);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatonException(ErrorCategory.Failure, $"cannot read '{directory}': {e.Message}", e);
        }

        CheckExpected(entries);
        RefuseUnrestorableLinks(entries, directory);
        var (lastSequence, parent) = await _repository.ReadHeadAsync(run, cancellationToken).ConfigureAwait(false);
        var index = await new Maintenance.GarbageCollector(_repository).LoadIndexForWritingAsync(cancellationToken).ConfigureAwait(false);

        var files = entries.Where(e => e.Kind == EntryKind.File).ToList();
        _totalFiles = files.Count;
        _totalBytes = files.Sum(f => f.Size);
        var previous = parent?.Manifest.Entries.Where(e => e.Kind == EntryKind.File).ToDictionary(e => e.Path, StringComparer.Ordinal);
        var work = new List<FileWork>(files.Count);
        var reused = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var renamed = _deltas ? previous?.Values.ToLookup(e => (StepFree(e.Path), e.Size)) : null;
        foreach (var file in files)
        {
            var old = previous?.GetValueOrDefault(file.RelativePath);
            if (old is not null && IsUnchanged(file, old, index))
            {
                reused[file.RelativePath] = old.Chunks!;
                _filesDone++;
                _bytesSkipped += file.Size;
            }
            else
            {
                // A checkpoint saved under the next step's name (ckpt-200.pt after ckpt-100.pt) is the same file moved
                // on: with no file at its path, the parent's newest file whose path differs only in its digits, at
                // the same size, is its predecessor.
                var predecessor = old ?? renamed?[(StepFree(file.RelativePath), file.Size)].MaxBy(e => e.MTime);
                var layout = _deltas && predecessor is not null && predecessor.Size == file.Size ? LayoutOf(predecessor, index) : null;
                work.Add(new FileWork(file, layout));
            }
        }

        _work = work;
        await RunPipelineAsync(work, index, cancellationToken).ConfigureAwait(false);

        if (_written.Count > 0)
        {
            var indexFile = MasterIndex.Describe(_written.Select(p => (p.Id, (long)p.Length, p.Entries)));
            _bytesStored += await _repository.WriteIndexAsync(indexFile, cancellationToken).ConfigureAwait(false);
        }

        var byPath = work.ToDictionary(w => w.Entry.RelativePath, StringComparer.Ordinal);
        var manifest = new SnapshotManifest
        {
            Run = run,
            Sequence = lastSequence + 1,
            Step = _options.Step,
            Created = _repository.Options.TimeProvider.GetUtcNow(),
            Host = _repository.Options.HostName,
            Parent = parent?.Id,
            Epoch = _options.Lease?.Epoch ?? 0,
            Labels = _options.Labels?.ToDictionary(StringComparer.Ordinal),
            Entries = entries.Select(e => new SnapshotEntry
            {
                Path = e.RelativePath,
                Kind = e.Kind,
                Size = e.Size,
                Mode = e.Mode,
                MTime = e.MTime,
                Inode = e.Inode,
                Target = e.Target,
                Chunks = e.Kind != EntryKind.File ? null
                    : reused.TryGetValue(e.RelativePath, out var chunks) ? chunks
                    : byPath[e.RelativePath].Chunks.Select(c => c.Id.ToString()).ToList(),
            }).ToList(),
            Stats = new SnapshotStats
            {
                Files = files.Count,
                Bytes = _totalBytes,
                BytesRead = _bytesRead,
                BytesNew = _bytesNew,
                BytesStored = _bytesStored,
                Seconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
            },
        };
        if (_options.Lease is { } lease)
        {
            await lease.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        }

        var snapshot = _options.Commit is { } commit
            ? await commit(manifest, cancellationToken).ConfigureAwait(false)
            : await _repository.CommitAsync(manifest, cancellationToken).ConfigureAwait(false);
        if (snapshot.Sequence > 0)
        {
            _options.Lease?.RecordCommitted(snapshot.Sequence);
        }

        if (_marker is not null)
        {
            await ConfirmAsync(snapshot, _marker, entries, index, cancellationToken).ConfigureAwait(false);
        }

        return snapshot;
    }

    // After the commit: make sure no concurrent collection removed packs this snapshot needs while the push was
    // paused; chunks found lost are stored again from the files, which are content-addressed like the snapshot's
    // chunk lists, so the committed snapshot is whole again (docs/DESIGN.md, "Garbage collection").
    private async Task ConfirmAsync(Snapshot snapshot, Maintenance.InFlightMarker marker, List<ScannedEntry> entries, MasterIndex index,
        CancellationToken cancellationToken)
    {
        var confirmation = new Maintenance.CommitConfirmation(_repository, marker);
        var packOf = index.Blobs.ToDictionary(b => b.Key, b => b.Value.PackId);
        // A delta whose base a collection took is lost too: it is stored again plainly.
        var baseOf = index.Blobs.Where(b => b.Value.Entry.Base is not null).ToDictionary(b => b.Key, b => b.Value.Entry.Base!.Value);
        foreach (var (chunk, baseId) in _bases)
        {
            baseOf[chunk] = baseId;
        }

        foreach (var pack in _written)
        {
            foreach (var entry in pack.Entries)
            {
                packOf[entry.Id] = pack.Id;
            }
        }

        for (var round = 1; ; round++)
        {
            await confirmation.WaitForCollectionsAsync(snapshot, cancellationToken).ConfigureAwait(false);
            var lost = await confirmation.FindLostChunksAsync(snapshot.Manifest, packOf, cancellationToken, baseOf).ConfigureAwait(false);
            if (lost.Count == 0)
            {
                return;
            }

            if (round == 3)
            {
                throw Maintenance.CommitConfirmation.Lost(snapshot);
            }

            foreach (var pack in await StoreAgainAsync(snapshot, entries, packOf, lost, cancellationToken).ConfigureAwait(false))
            {
                foreach (var entry in pack.Entries)
                {
                    packOf[entry.Id] = pack.Id;
                    baseOf.Remove(entry.Id);
                }
            }
        }
    }

    // Stores the lost chunks again by pushing the files that hold them through a fresh pipeline that knows every other
    // chunk as present; a file that no longer cuts into the committed chunk list cannot make the snapshot whole.
    private async Task<IReadOnlyList<SealedPackInfo>> StoreAgainAsync(Snapshot snapshot, List<ScannedEntry> entries,
        Dictionary<ContentId, ContentId> packOf, HashSet<ContentId> lost, CancellationToken cancellationToken)
    {
        var committed = snapshot.Manifest.Entries.Where(e => e.Chunks is not null).ToDictionary(e => e.Path, e => e.Chunks!, StringComparer.Ordinal);
        // Cut where the push cut (at the parent's boundaries where it did), but stored plain: no base to lose again.
        var layouts = _work.Where(w => w.Layout is not null).ToDictionary(w => w.Entry.RelativePath, w => w.Layout!, StringComparer.Ordinal);
        var work = entries.Where(e => e.Kind == EntryKind.File && committed[e.RelativePath].Any(c => lost.Contains(ContentId.Parse(c))))
            .Select(e => new FileWork(e, layouts.TryGetValue(e.RelativePath, out var layout) ? layout.Select(c => c with { Base = null }).ToList() : null)).ToList();
        var present = new MasterIndex();
        foreach (var (chunk, pack) in packOf.Where(p => !lost.Contains(p.Key)))
        {
            present.Add(pack, 0, [new PackEntry(chunk, 0, 0, 0, default)]);
        }

        var again = new Archiver(_repository, _options with { Progress = null });
        try
        {
            await again.RunPipelineAsync(work, present, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointChangedException e)
        {
            throw Maintenance.CommitConfirmation.Lost(snapshot, e);
        }

        if (work.Any(w => !w.Chunks.Select(c => c.Id.ToString()).SequenceEqual(committed[w.Entry.RelativePath], StringComparer.Ordinal)))
        {
            throw Maintenance.CommitConfirmation.Lost(snapshot);
        }

        if (again._written.Count > 0)
        {
            await _repository.WriteIndexAsync(MasterIndex.Describe(again._written.Select(p => (p.Id, (long)p.Length, p.Entries))), cancellationToken)
                .ConfigureAwait(false);
        }

        return again._written;
    }

    // A link that restore would refuse makes a snapshot that can never be restored: say so now, not after the machine is gone.
    private static void RefuseUnrestorableLinks(List<ScannedEntry> entries, string directory)
    {
        var links = entries.Where(e => e.Kind == EntryKind.Link).Select(e => new SnapshotEntry { Path = e.RelativePath, Kind = e.Kind, Target = e.Target }).ToList();
        var map = links.ToDictionary(l => l.Path, l => l.Target!, StringComparer.Ordinal);
        foreach (var link in links)
        {
            bool restorable;
            try
            {
                RestorePaths.CheckEntry(link, directory);
                restorable = RestorePaths.ResolveLink(link.Path, link.Target!, map) is not null;
            }
            catch (IntegrityException)
            {
                restorable = false;
            }

            if (!restorable)
            {
                throw new UsageException(
                    $"cannot push '{link.Path}': it is a symbolic link to '{link.Target}', outside '{directory}', which restore refuses; make it a relative link inside the directory or a copy");
            }
        }
    }

    // The caller found these files complete in these states; one replaced since then belongs to another checkpoint.
    private void CheckExpected(List<ScannedEntry> entries)
    {
        foreach (var entry in entries)
        {
            if (_options.Expected?.TryGetValue(entry.RelativePath, out var stamp) == true
                && (entry.Kind != EntryKind.File || stamp.Size != entry.Size || stamp.MTime != entry.MTime))
            {
                throw Changed(entry, "was replaced after the checkpoint was found");
            }
        }
    }

    // Reused only while every chunk is in a pack the store holds: a file whose pack was lost is read and stored again.
    private static bool IsUnchanged(ScannedEntry file, SnapshotEntry old, MasterIndex index) =>
        file.Inode != 0 && old.Inode == file.Inode && old.Size == file.Size && old.MTime == file.MTime && old.Chunks is not null
        && old.Chunks.All(c => ContentId.TryParse(c, out var id) && index.IsStored(id));

    private static string StepFree(string path) => StepDigits().Replace(path, "#");

    [System.Text.RegularExpressions.GeneratedRegex("[0-9]+")]
    private static partial System.Text.RegularExpressions.Regex StepDigits();

    // A file the parent snapshot holds at the same size is cut where the parent's version was cut (a checkpoint
    // rewritten in place keeps its layout, and unchanged ranges still dedup), each chunk with the parent's chunk at
    // its place as the base for a delta: that chunk itself when it is stored plain, else its own base (one level).
    // Null when the parent's chunks are not all indexed: the file is cut by content as any other.
    private List<LaidOutChunk>? LayoutOf(SnapshotEntry old, MasterIndex index)
    {
        if (old.Chunks is null || old.Chunks.Count == 0)
        {
            return null;
        }

        var layout = new List<LaidOutChunk>(old.Chunks.Count);
        long total = 0;
        foreach (var chunk in old.Chunks)
        {
            if (!ContentId.TryParse(chunk, out var id) || !index.TryGet(id, out var location)
                || location.Entry.RawLength <= 0 || location.Entry.RawLength > _repository.Chunker.Parameters.MaxSize)
            {
                return null;
            }

            var candidate = location.Entry.Codec == BlobCodec.Delta ? location.Entry.Base : id;
            ContentId? usable = candidate is { } b && index.IsStored(b) && index.TryGet(b, out var at)
                && at.Entry.Codec != BlobCodec.Delta && at.Entry.RawLength == location.Entry.RawLength ? b : null;
            layout.Add(new LaidOutChunk(location.Entry.RawLength, usable));
            total += location.Entry.RawLength;
        }

        return total == old.Size ? layout : null;
    }

    // The stages run on the push's threads (lowered ones for a background push); the caller continues on the
    // thread pool, never on a lowered thread, whatever it does next (a supervisor may start a trainer).
    private Task RunPipelineAsync(List<FileWork> work, MasterIndex index, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = RunStagesAsync(work, index, cancellationToken).ContinueWith(static (stages, state) => ((TaskCompletionSource)state!).SetFromTask(stages),
            done, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return done.Task;
    }

    private Task OnPushThreads(Func<Task> stage) =>
        Task.Factory.StartNew(stage, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler).Unwrap();

    private async Task RunStagesAsync(List<FileWork> work, MasterIndex index, CancellationToken cancellationToken)
    {
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = Math.Max(1, _options.Workers ?? Environment.ProcessorCount);
        // One waiting item per channel is enough to keep every stage busy; each more costs up to MaxSize of memory.
        var chunks = Channel.CreateBounded<ChunkJob>(new BoundedChannelOptions(1) { SingleWriter = true });
        var encoded = Channel.CreateBounded<EncodedBlob>(new BoundedChannelOptions(1) { SingleReader = true });

        var stages = new List<Task>
        {
            Guard(OnPushThreads(() => ReadAsync(work, chunks.Writer, failure.Token)), chunks.Writer, failure),
            CancelOthersOnFailure(OnPushThreads(() => PackAsync(encoded.Reader, failure.Token)), failure),
        };
        var encoders = Enumerable.Range(0, workers).Select(_ => OnPushThreads(() => EncodeAsync(chunks.Reader, encoded.Writer, index, failure.Token))).ToArray();
        stages.Add(Guard(Task.WhenAll(encoders), encoded.Writer, failure));

        try
        {
            await Task.WhenAll(stages).ConfigureAwait(false);
        }
        catch
        {
            await failure.CancelAsync().ConfigureAwait(false);
            DrainAndReturn(chunks.Reader, encoded.Reader);
            var real = stages.Select(s => s.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException);
            if (real is not null && !cancellationToken.IsCancellationRequested)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(real);
            }

            throw;
        }
    }

    // Completes the stage's output channel when it ends and cancels the other stages when it fails.
    private static async Task Guard<T>(Task stage, ChannelWriter<T> output, CancellationTokenSource failure)
    {
        try
        {
            await stage.ConfigureAwait(false);
            output.TryComplete();
        }
        catch (Exception e)
        {
            output.TryComplete(e);
            await failure.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    // The last stage has no channel to complete, but the stages before it must not wait forever on a dead consumer.
    private static async Task CancelOthersOnFailure(Task stage, CancellationTokenSource failure)
    {
        try
        {
            await stage.ConfigureAwait(false);
        }
        catch
        {
            await failure.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task ReadAsync(List<FileWork> work, ChannelWriter<ChunkJob> output, CancellationToken cancellationToken)
    {
        var chunker = _repository.Chunker;
        var max = chunker.Parameters.MaxSize;
        var window = _buffers.Rent(max * 2);
        try
        {
            foreach (var file in work)
            {
                await ReadFileAsync(file, chunker, window, max, output, cancellationToken).ConfigureAwait(true);
            }
        }
        finally
        {
            _buffers.Return(window);
        }
    }

    private async Task ReadFileAsync(FileWork file, Chunking.Chunker chunker, byte[] window, int max, ChannelWriter<ChunkJob> output, CancellationToken cancellationToken)
    {
        var entry = file.Entry;
        long total;
        try
        {
            await using var stream = new FileStream(entry.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
                bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
            total = file.Layout is { } layout
                ? await CutAtAsync(stream, file, layout, max, output, cancellationToken).ConfigureAwait(true)
                : await CutByContentAsync(stream, file, chunker, window, max, output, cancellationToken).ConfigureAwait(true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Changed(entry, "was deleted");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatonException(ErrorCategory.Failure, $"cannot read '{entry.RelativePath}': {e.Message}", e);
        }

        // A trainer that rewrites the file in place while we read it would give a torn snapshot.
        var after = new FileInfo(entry.FullPath);
        if (!after.Exists)
        {
            throw Changed(entry, "was deleted");
        }

        if (total != entry.Size || after.Length != entry.Size || DirectoryScanner.MTimeOf(after) != entry.MTime)
        {
            throw Changed(entry, "changed (size or modification time moved)");
        }

        if (entry.Inode != 0 && Platform.PosixFile.GetInode(entry.FullPath) != entry.Inode)
        {
            throw Changed(entry, "was replaced by another file");
        }

        Interlocked.Increment(ref _filesDone);
        Report();
    }

    // Chunks of the parent's lengths, in order; returns the bytes read (more than the file's size if it grew).
    private async Task<long> CutAtAsync(FileStream stream, FileWork file, List<LaidOutChunk> layout, int max, ChannelWriter<ChunkJob> output,
        CancellationToken cancellationToken)
    {
        long total = 0;
        foreach (var chunk in layout)
        {
            var buffer = _buffers.Rent(max);
            var read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, chunk.Length), chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(true);
            total += read;
            if (read != chunk.Length)
            {
                _buffers.Return(buffer);
                return total;
            }

            var slot = new ChunkSlot();
            file.Chunks.Add(slot);
            await output.WriteAsync(new ChunkJob(slot, buffer, chunk.Length, chunk.Base), cancellationToken).ConfigureAwait(true);
            Interlocked.Add(ref _bytesRead, chunk.Length);
            Report();
        }

        var probe = new byte[1];
        return total + await stream.ReadAsync(probe, cancellationToken).ConfigureAwait(true);
    }

    private async Task<long> CutByContentAsync(FileStream stream, FileWork file, Chunking.Chunker chunker, byte[] window, int max,
        ChannelWriter<ChunkJob> output, CancellationToken cancellationToken)
    {
        long total = 0;
        int start = 0, filled = 0;
        var eof = false;
        var needMore = false;
        while (true)
        {
            // Refill only when the bytes ahead hold no cut (or there are none): moving the unread rest to the front
            // then copies a fraction of a chunk, not the MaxSize of lookahead that keeping a full window ahead would.
            if ((needMore || filled == start) && !eof)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(window, start, window, 0, filled - start);
                    filled -= start;
                    start = 0;
                }

                while (!eof && filled < window.Length)
                {
                    var read = await stream.ReadAsync(window.AsMemory(filled, window.Length - filled), cancellationToken).ConfigureAwait(true);
                    eof = read == 0;
                    filled += read;
                    total += read;
                }
            }

            if (filled == start)
            {
                break;
            }

            var ahead = filled - start;
            var length = chunker.NextCut(window.AsSpan(start, ahead));
            // A cut at the very end of a short view may only be where the view ends: read on and cut again (the
            // cut points are a function of the bytes alone, so a real one is found again at the same place).
            needMore = length == ahead && ahead < max && !eof;
            if (needMore)
            {
                continue;
            }

            // Always the largest size: one pool bucket is reused instead of one per chunk-size class, which keeps
            // the resident set flat.
            var buffer = _buffers.Rent(max);
            Buffer.BlockCopy(window, start, buffer, 0, length);
            var slot = new ChunkSlot();
            file.Chunks.Add(slot);
            await output.WriteAsync(new ChunkJob(slot, buffer, length, null), cancellationToken).ConfigureAwait(true);
            start += length;
            Interlocked.Add(ref _bytesRead, length);
            Report();
        }

        return total;
    }

    private static CheckpointChangedException Changed(ScannedEntry entry, string what) =>
        new(entry.RelativePath, $"'{entry.RelativePath}' {what} while it was being pushed; nothing was committed (push the newer checkpoint)");

    private async Task EncodeAsync(ChannelReader<ChunkJob> input, ChannelWriter<EncodedBlob> output, MasterIndex index, CancellationToken cancellationToken)
    {
        await foreach (var job in input.ReadAllAsync(cancellationToken).ConfigureAwait(true))
        {
            var id = _repository.Cipher.ChunkId(job.Buffer.AsSpan(0, job.Length));
            job.Slot.Id = id;
            // Only a chunk in a pack the store still holds counts as stored: one in a lost pack is stored again.
            if (index.IsStored(id) || !_claimed.TryAdd(id, 0))
            {
                _buffers.Return(job.Buffer);
                continue;
            }

            var target = _buffers.Rent(DeltaCodec.MaxEncodedLength(_repository.Chunker.Parameters.MaxSize));
            var (codec, length) = _compressor.Encode(job.Buffer.AsSpan(0, job.Length), target);
            if (job.Base is { } baseId && baseId != id)
            {
                (target, codec, length) = await SmallerWithDeltaAsync(id, job, baseId, index, target, codec, length, cancellationToken).ConfigureAwait(true);
            }

            _buffers.Return(job.Buffer);
            Interlocked.Add(ref _bytesNew, job.Length);
            await output.WriteAsync(new EncodedBlob(id, codec, target, length, job.Length), cancellationToken).ConfigureAwait(true);
        }
    }

    // The chunk as a delta against its base when that is strictly smaller than its plain encoding; else the plain one
    // (which then serves as the base of later snapshots). A base that cannot be read or verified is simply not used.
    private async Task<(byte[] Target, BlobCodec Codec, int Length)> SmallerWithDeltaAsync(ContentId id, ChunkJob job, ContentId baseId, MasterIndex index,
        byte[] plain, BlobCodec plainCodec, int plainLength, CancellationToken cancellationToken)
    {
        byte[] baseRaw;
        try
        {
            baseRaw = await DeltaBlobs.ReadBaseAsync(_repository, index, baseId, job.Length, $"chunk {id.ToShortString()}", cancellationToken).ConfigureAwait(true);
        }
        catch (Exception e) when (e is IntegrityException or StoreException { Reason: StoreErrorReason.NotFound or StoreErrorReason.Corrupt })
        {
            return (plain, plainCodec, plainLength);
        }

        var max = _repository.Chunker.Parameters.MaxSize;
        var delta = _buffers.Rent(DeltaCodec.MaxEncodedLength(max));
        var scratch = _buffers.Rent(max);
        try
        {
            var length = DeltaCodec.Encode(_compressor, job.Buffer.AsSpan(0, job.Length), baseId, baseRaw.AsSpan(0, job.Length), scratch, delta);
            if (length >= plainLength)
            {
                return (plain, plainCodec, plainLength);
            }

            _bases[id] = baseId;
            (plain, delta) = (delta, plain);
            return (plain, BlobCodec.Delta, length);
        }
        finally
        {
            _buffers.Return(delta);
            _buffers.Return(scratch);
            System.Buffers.ArrayPool<byte>.Shared.Return(baseRaw);
        }
    }

    private async Task PackAsync(ChannelReader<EncodedBlob> input, CancellationToken cancellationToken)
    {
        using var builder = new PackBuilder(_repository.Config.PackSize, _repository.Cipher, _buffers);
        using var slots = new SemaphoreSlim(Math.Max(1, _repository.Store.Capabilities.PackUploads));
        var uploads = new List<Task>();
        try
        {
            await foreach (var blob in input.ReadAllAsync(cancellationToken).ConfigureAwait(true))
            {
                builder.Add(blob.Id, blob.Codec, blob.Buffer.AsSpan(0, blob.Length), blob.RawLength);
                _buffers.Return(blob.Buffer);
                if (builder.IsFull)
                {
                    await slots.WaitAsync(cancellationToken).ConfigureAwait(true);
                    await ThrowIfAnyFailedAsync(uploads).ConfigureAwait(true);
                    uploads.Add(StartUpload(builder.Seal(), slots, cancellationToken));
                }
            }

            if (builder.Count > 0)
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(true);
                uploads.Add(StartUpload(builder.Seal(), slots, cancellationToken));
            }
        }
        finally
        {
            // Never leave an upload running behind a failed push.
            await Task.WhenAll(uploads).ConfigureAwait(false);
        }
    }

    // Stop at the first failed upload instead of packing the rest of the checkpoint for nothing.
    private static async Task ThrowIfAnyFailedAsync(List<Task> uploads)
    {
        if (uploads.Find(u => u.IsFaulted) is { } failed)
        {
            await failed.ConfigureAwait(false);
        }
    }

    // On another thread: a store may write synchronously (the folder store's unbuffered writes and flushes do), and
    // the packer must go on filling the next pack meanwhile. Always started, so that the pack and its slot are
    // always given back.
    private Task StartUpload(SealedPack pack, SemaphoreSlim slots, CancellationToken cancellationToken) =>
        OnPushThreads(() => UploadAsync(pack, slots, cancellationToken));

    private async Task UploadAsync(SealedPack pack, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            await _repository.Store.PutAsync(PackFormat.KeyOf(pack.Id), pack.Bytes, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
            // The pack header does not record a delta's base; its index entry does.
            var entries = _bases.IsEmpty ? pack.Entries
                : pack.Entries.Select(e => e.Codec == BlobCodec.Delta ? e with { Base = _bases[e.Id] } : e).ToList();
            lock (_written)
            {
                _written.Add(new SealedPackInfo(pack.Id, pack.Length, entries));
                _bytesStored += pack.Length;
            }
        }
        finally
        {
            pack.Dispose();
            slots.Release();
        }
    }

    // Progress counts unchanged files (not read at all) as done, so that an incremental push ends at 100%.
    private void Report() => _options.Progress?.Report(new TransferProgress(
        Interlocked.Read(ref _bytesRead) + _bytesSkipped, _totalBytes, Interlocked.Read(ref _filesDone), _totalFiles));

    private void DrainAndReturn(ChannelReader<ChunkJob> chunks, ChannelReader<EncodedBlob> encoded)
    {
        while (chunks.TryRead(out var job))
        {
            _buffers.Return(job.Buffer);
        }

        while (encoded.TryRead(out var blob))
        {
            _buffers.Return(blob.Buffer);
        }
    }

    private sealed class FileWork(ScannedEntry entry, List<LaidOutChunk>? layout = null)
    {
        public ScannedEntry Entry { get; } = entry;

        // Where to cut (the parent's chunk lengths) and each chunk's delta base; null: cut by content.
        public List<LaidOutChunk>? Layout { get; } = layout;

        public List<ChunkSlot> Chunks { get; } = [];
    }

    private sealed class ChunkSlot
    {
        public ContentId Id { get; set; }
    }

    private readonly record struct LaidOutChunk(int Length, ContentId? Base);

    private readonly record struct ChunkJob(ChunkSlot Slot, byte[] Buffer, int Length, ContentId? Base);

    private readonly record struct EncodedBlob(ContentId Id, BlobCodec Codec, byte[] Buffer, int Length, int RawLength);

    private sealed record SealedPackInfo(ContentId Id, int Length, IReadOnlyList<PackEntry> Entries);
}
