using Baton.Storage;

namespace Baton.Staging;

/// <summary>One stage: the cache, the shared connection limit, the progress and the tallies, over all files of a source.</summary>
internal sealed class StageSession
{
    private readonly StageOptions _options;
    private readonly StageCache _cache;
    private readonly StageProgress _progress;
    private readonly RangeDownloader _downloader;
    private long _files;
    private long _bytes;
    private long _downloaded;
    private long _fromCache;
    private long _unchanged;

    public StageSession(StageOptions options, long totalBytes, long totalFiles)
    {
        _options = options;
        _cache = new StageCache(options.CacheDirectory ?? StageOptions.DefaultCacheDirectory());
        _progress = new StageProgress(options.Progress, totalBytes, totalFiles);
#pragma warning disable CA2000 // The semaphore lives as long as the session, which has no end to hook.
        _downloader = new RangeDownloader(options, new SemaphoreSlim(Math.Max(1, options.Connections)), bytes =>
        {
            Interlocked.Add(ref _downloaded, bytes);
            _progress.AddBytes(bytes);
        });
#pragma warning restore CA2000
    }

    public StageResult Result(string destination) => new(destination, _files, _bytes, _downloaded, _fromCache, _unchanged);

    public async Task StageFileAsync(RemoteFile file, string target, CancellationToken cancellationToken)
    {
        using var held = await _cache.LockAsync(file.Identity, cancellationToken).ConfigureAwait(false);
        var record = _cache.ReadRecord(file.Identity);
        var cached = Cached(file, record);
        if (cached is not null)
        {
            try
            {
                await PlaceAsync(cached, target, fromDownload: false, SameContent(record, cached), cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _fromCache);
                return;
            }
            catch (CacheCorruptException)
            {
                // The damaged copy is gone; fetch the file again below.
            }
        }

        var downloaded = await DownloadAsync(file, record, cancellationToken).ConfigureAwait(false);
        await PlaceAsync(downloaded, target, fromDownload: true, SameContent(record, downloaded), cancellationToken).ConfigureAwait(false);
    }

    // A new version can keep the size and even the stamp (a time in whole seconds, or the first stage's time when the
    // source gives none), so a destination is left in place only when the content is the one staged before.
    private static bool SameContent(SourceRecord? before, SourceRecord now) => before is not null && before.Sha256 == now.Sha256;

    // The cached content for this version of the source: by its own record, or by a published MD5 already cached.
    private SourceRecord? Cached(RemoteFile file, SourceRecord? record)
    {
        if (record is not null && !_options.Refresh && record.Matches(file) && File.Exists(_cache.ObjectPath(record.Sha256)))
        {
            return record;
        }

        if (file.Digests.Md5 is { } md5 && file.Size is { } size && _cache.FindByMd5(md5) is { } sha && new FileInfo(_cache.ObjectPath(sha)).Length == size)
        {
            var known = new SourceRecord(file.Display, size, file.ETag, file.LastModified, sha, md5, file.Digests.Crc32C,
                record?.FirstStaged ?? _options.TimeProvider.GetUtcNow());
            _cache.WriteRecord(file.Identity, known);
            return known;
        }

        return null;
    }

    private async Task<SourceRecord> DownloadAsync(RemoteFile file, SourceRecord? record, CancellationToken cancellationToken)
    {
        var partial = PartialDownload.Open(_cache.PartialPath(file.Identity), file, _options);
        _progress.AddBytes(partial.BytesDone);
        try
        {
            await _downloader.DownloadAsync(file, partial, cancellationToken).ConfigureAwait(false);
        }
        catch (SourceChangedException e)
        {
            partial.Discard();
            throw new StoreException(StoreErrorReason.Transient, file.Display, null, $"{e.Message}: stage it again");
        }

        var digests = await ComputedDigests.OfFileAsync(partial.DataPath, file.Digests.Md5 is not null, file.Digests.Crc32C is not null, cancellationToken)
            .ConfigureAwait(false);
        var size = new FileInfo(partial.DataPath).Length;
        try
        {
            if (file.Size is { } expected && expected != size)
            {
                throw new IntegrityException($"the download of {file.Display} has {size} bytes but the source says {expected}; stage it again");
            }

            file.Digests.Verify(digests, file.Display);

            // Without published checksums, the hash of the first download is the reference for the same version.
            if (record is not null && record.Matches(file) && record.Sha256 != digests.Sha256)
            {
                throw new IntegrityException(
                    $"the download of {file.Display} differs from the first download of the same version (SHA-256 {digests.Sha256[..12]}..., first {record.Sha256[..12]}...); stage it again");
            }
        }
        catch (IntegrityException)
        {
            partial.Discard();
            throw;
        }

        _cache.Commit(partial.DataPath, digests.Sha256);
        partial.Finish();
        var fresh = new SourceRecord(file.Display, size, file.ETag, file.LastModified, digests.Sha256, digests.Md5 ?? file.Digests.Md5, digests.Crc32C ?? file.Digests.Crc32C,
            record?.FirstStaged ?? _options.TimeProvider.GetUtcNow());
        _cache.WriteRecord(file.Identity, fresh);
        return fresh;
    }

    private async Task PlaceAsync(SourceRecord record, string target, bool fromDownload, bool mayBeInPlace, CancellationToken cancellationToken)
    {
        var stamp = record.LastModified ?? record.FirstStaged;
        Action<long> onBytes = fromDownload ? _ => { } : _progress.AddBytes;
        var copied = await Materializer.PlaceAsync(_cache.ObjectPath(record.Sha256), record.Sha256, record.Size, stamp, target, onBytes, mayBeInPlace, cancellationToken)
            .ConfigureAwait(false);
        if (!copied)
        {
            Interlocked.Increment(ref _unchanged);
            if (!fromDownload)
            {
                _progress.AddBytes(record.Size);
            }
        }

        Interlocked.Increment(ref _files);
        Interlocked.Add(ref _bytes, record.Size);
        _progress.FileDone();
    }
}
