using System.Globalization;
using System.Runtime.CompilerServices;
using Baton.Platform;

namespace Baton.Storage.Folder;

/// <summary>
/// A store in a local or mounted folder (NFS, a Google Drive mount, a Kaggle dataset folder). Writes go to a
/// temporary name in the target's directory, are flushed to disk and renamed into place, so readers see whole
/// objects only; create-if-absent uses a rename that refuses to replace an existing file.
/// </summary>
public sealed class FolderStore : IObjectStore
{
    private const string TempPrefix = ".tmp-";

    // Objects at least this large (packs) are written and range-read unbuffered where the file system allows it.
    private const int DirectThreshold = 1 << 20;
    private readonly string _root;
    private volatile bool _rootReady;
    private volatile int _direct; // 0 not yet known, 1 unbuffered I/O works here, -1 it does not

    /// <summary>Creates a store rooted at <paramref name="root"/>; the folder is created on first write.</summary>
    public FolderStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
    }

    /// <inheritdoc />
    public string Location => _root;

    /// <inheritdoc />
    public StoreCapabilities Capabilities { get; } = new(AtomicCreate: true, Concurrency: Math.Max(2, Environment.ProcessorCount)) { Local = true };

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, TempPrefix + Guid.NewGuid().ToString("N"));
        // The direct write below takes no token: a cancelled put is refused before it starts and before it commits.
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            EnsureRoot(key);
            Directory.CreateDirectory(directory);
            if (!(data.Length >= DirectThreshold && UsesDirectIo() && TryWriteDirect(temp, data.Span)))
            {
                await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                await file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
#pragma warning disable CA1849 // fsync has no asynchronous form
                file.Flush(flushToDisk: true);
#pragma warning restore CA1849
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (mode == PutMode.CreateNew)
            {
                switch (PosixFile.CreateNoReplace(temp, path))
                {
                    case NoReplaceResult.Linked:
                        File.Delete(temp);
                        break;
                    case NoReplaceResult.Exists:
                        File.Delete(temp);
                        throw new StoreException(StoreErrorReason.AlreadyExists, Location, key, $"object '{key}' already exists in {Location}");
                    case NoReplaceResult.Unsupported:
                        // A file system with neither hard links nor RENAME_NOREPLACE: check-then-rename, not atomic.
                        File.Move(temp, path, overwrite: false);
                        break;
                }
            }
            else
            {
                File.Move(temp, path, overwrite: true);
            }

            PosixFile.SyncDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            if (mode == PutMode.CreateNew && File.Exists(path))
            {
                throw new StoreException(StoreErrorReason.AlreadyExists, Location, key, $"object '{key}' already exists in {Location}", e);
            }

            throw Classify(e, key, "write");
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        try
        {
            if (length >= DirectThreshold / 4 && UsesDirectIo() && DirectIo.TryOpenRead(path) is { } direct)
            {
                return Task.FromResult<Stream>(new DirectReadStream(direct, offset, length));
            }

            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous);
            if (offset > 0)
            {
                file.Seek(offset, SeekOrigin.Begin);
            }

            Stream stream = length >= 0 ? new BoundedStream(file, length) : file;
            return Task.FromResult(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Classify(e, key, "read");
        }
    }

    /// <inheritdoc />
    public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Describe(key, PathOf(key)));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        if (!Directory.Exists(_root))
        {
            ThrowIfRootIsFile(prefix);
            yield break;
        }

        // Start at the deepest folder the prefix names, then filter by the full prefix.
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? _root : Path.Combine(_root, prefix[..slash]);
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var file in new DirectoryInfo(start).EnumerateFiles("*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.Name.StartsWith(TempPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var key = Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal) && Describe(key, file.FullName) is { } info)
            {
                yield return info; // a file removed since the folder was read is simply not listed
            }
        }
    }

    /// <summary>
    /// The first entry of the folder that a listing does not show: an empty folder, a temporary file that is not one of
    /// this store's, or anything that is not a regular file. Any of them means someone else's things may be here. This
    /// store's own temporary files are not named: a machine lost while it created the repository leaves one, and the
    /// next machine must be able to create it again.
    /// </summary>
    public Task<string?> FindUnlistedEntryAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(_root))
        {
            ThrowIfRootIsFile("");
            return Task.FromResult<string?>(null);
        }

        var pending = new Stack<string>();
        pending.Push(_root);
        while (pending.TryPop(out var directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var empty = true;
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false }))
            {
                empty = false;
                var relative = Path.GetRelativePath(_root, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (entry.LinkTarget is not null)
                {
                    return Task.FromResult<string?>($"a link '{relative}'");
                }

                if (entry is DirectoryInfo)
                {
                    pending.Push(entry.FullName);
                }
                else if (IsOwnTemporaryFile(entry.Name))
                {
                    continue; // what a put killed before its rename leaves: an interrupted creation of this very repository
                }
                else if (entry.Name.StartsWith(TempPrefix, StringComparison.Ordinal))
                {
                    return Task.FromResult<string?>($"a temporary file '{relative}'");
                }
                else if (PosixFile.Stat(entry.FullName).Type is not (PosixFileType.Regular or PosixFileType.Unknown))
                {
                    return Task.FromResult<string?>($"a special file '{relative}'");
                }
            }

            if (empty && directory != _root)
            {
                return Task.FromResult<string?>($"an empty folder '{Path.GetRelativePath(_root, directory).Replace(Path.DirectorySeparatorChar, '/')}/'");
            }
        }

        return Task.FromResult<string?>(null);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            File.Delete(PathOf(key));
            return Task.CompletedTask;
        }
        catch (DirectoryNotFoundException)
        {
            return Task.CompletedTask; // absent, folder and all: deleting it succeeds (idempotent)
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Classify(e, key, "delete");
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // The temporary name PutAsync gives a write: the prefix and a GUID in 32 lowercase hex digits.
    private static bool IsOwnTemporaryFile(string name) =>
        name.Length == TempPrefix.Length + 32 && name.StartsWith(TempPrefix, StringComparison.Ordinal)
        && name.AsSpan(TempPrefix.Length).IndexOfAnyExcept("0123456789abcdef") < 0;

    // The version tag is the inode and the modification time in ticks. An overwrite renames a new temporary file into
    // place, and that file existed beside the one it replaces, so its inode differs: the tag changes on every
    // overwrite, even two within one clock tick. An edit in place by another program keeps the inode but moves the time.
    private static ObjectInfo? Describe(string key, string path)
    {
        if (PosixFile.StatRegularFile(path) is { } version)
        {
            return new ObjectInfo(key, version.Size)
            {
                LastModified = version.Modified,
                VersionTag = string.Create(CultureInfo.InvariantCulture, $"{version.Inode:x}-{version.Modified.UtcTicks:x}"),
            };
        }

        if (OperatingSystem.IsLinux())
        {
            return null;
        }

        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        var modified = new DateTimeOffset(info.LastWriteTimeUtc);
        return new ObjectInfo(key, info.Length)
        {
            LastModified = modified,
            VersionTag = modified.UtcTicks.ToString("x", CultureInfo.InvariantCulture),
        };
    }

    private bool UsesDirectIo()
    {
        if (_direct == 0 && Directory.Exists(_root))
        {
            _direct = DirectIo.IsSupportedAt(_root) ? 1 : -1;
        }

        return _direct > 0;
    }

    // Unbuffered: the bytes go from memory to the disk without a copy into the page cache. False (nothing left
    // behind) when the file system refuses, which turns unbuffered I/O off for this store.
    private bool TryWriteDirect(string temp, ReadOnlySpan<byte> data)
    {
        using (var handle = DirectIo.TryCreate(temp))
        {
            if (handle is null)
            {
                return false;
            }

            try
            {
                DirectIo.Write(handle, data);
                RandomAccess.FlushToDisk(handle);
                return true;
            }
            catch (IOException e) when (DirectIo.IsUnsupported(e))
            {
                _direct = -1;
            }
        }

        File.Delete(temp);
        return false;
    }

    // The store folder itself may be created, but not its parent: a missing parent usually means an unmounted
    // drive, and writing to the local disk underneath would lose every checkpoint with the machine.
    private void EnsureRoot(string key)
    {
        if (_rootReady || Directory.Exists(_root))
        {
            _rootReady = true;
            return;
        }

        ThrowIfRootIsFile(key);

        var parent = Path.GetDirectoryName(_root);
        if (parent is not null && !Directory.Exists(parent))
        {
            throw new StoreException(StoreErrorReason.Unreachable, Location, key,
                $"cannot write to {Location}: its parent folder {parent} does not exist (is the drive mounted?)");
        }

        Directory.CreateDirectory(_root);
        _rootReady = true;
    }

    // A store path that names a file is a mistake to report, not a folder to create.
    private void ThrowIfRootIsFile(string? key)
    {
        if (File.Exists(_root))
        {
            throw new StoreException(StoreErrorReason.Unreachable, Location, key,
                $"store {Location} is a file, not a folder: give the path of a folder (an empty or missing one creates a repository)");
        }
    }

    private string PathOf(string key)
    {
        StoreKeys.Validate(key);
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    private StoreException Classify(Exception e, string key, string operation)
    {
        const int DiskFull = 28; // ENOSPC
        const int QuotaExceeded = 122; // EDQUOT
        var reason = e switch
        {
            FileNotFoundException or DirectoryNotFoundException => StoreErrorReason.NotFound,
            UnauthorizedAccessException => StoreErrorReason.Unauthorized,
            IOException io when (io.HResult & 0xFFFF) is DiskFull or QuotaExceeded => StoreErrorReason.Full,
            _ => StoreErrorReason.Permanent,
        };
        var what = reason switch
        {
            StoreErrorReason.NotFound => "not found",
            StoreErrorReason.Unauthorized => "permission denied",
            StoreErrorReason.Full => "no space left",
            _ => e.Message,
        };
        return new StoreException(reason, Location, key, $"cannot {operation} '{key}' in {Location}: {what}", e);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
