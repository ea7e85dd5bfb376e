using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Baton.Storage.Rclone;

/// <summary>
/// A store on any rclone remote (Google Drive, OneDrive, Dropbox, S3, B2, ... as the user's <c>rclone config</c> sets
/// them up), driven through the <c>rclone</c> program, one process per operation. Writes upload to a temporary name and
/// move it into place, so readers see whole objects only. Create-if-absent is a check followed by the write: most
/// remotes offer no conditional write, so <see cref="StoreCapabilities.AtomicCreate"/> is false and two machines racing
/// on the same key can both succeed. On bucket remotes (S3, Google Cloud Storage, Azure Blob, B2), where an object
/// appears only once its upload completes, writes go straight to the key: there a move is a server-side copy plus a
/// delete, which would double the server's work per object.
/// </summary>
public sealed class RcloneStore : IObjectStore
{
    private const string TempPrefix = ".tmp-";

    // What lsjson reports of an object: its size and modification time. --use-server-modtime takes the time from the
    // listing itself on S3 and Swift remotes, where the file's own time would cost a request per object. Hashes are
    // not asked for: --hash makes rclone read every byte on remotes that do not store one (a local disk, SFTP, crypt).
    private static readonly string[] Describing = ["--no-mimetype", "--use-server-modtime"];
    // Backends whose uploads are atomic: the object appears only when its upload completes (a single PUT, or the
    // completion of a multipart, resumable or block upload), so a killed rcat leaves nothing at the key. rclone 1.60's
    // local, SFTP and most other backends write in place, a partial file at the final name while it arrives.
    private static readonly HashSet<string> AtomicUploadBackends = new(StringComparer.Ordinal) { "s3", "google cloud storage", "gcs", "azureblob", "b2" };
    private readonly RcloneAddress _address;
    private readonly RcloneRunner _runner;
    private readonly Lazy<Task<bool>> _uploadsAtomically;
    private readonly RcloneReadWindows _windows = new();

    /// <summary>Creates a store; rclone is not run until the first operation.</summary>
    public RcloneStore(RcloneAddress address, RcloneSettings settings)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(settings);
        _address = address;
        _runner = new RcloneRunner(settings, address);
        _uploadsAtomically = new(DetectAtomicUploadsAsync);
    }

    /// <inheritdoc />
    public string Location => _address.Display;

    /// <inheritdoc />
    /// <remarks>
    /// The modification time is the only validator: its resolution is the remote's (nanoseconds on a local disk, whole
    /// seconds on S3, SFTP, Dropbox and OneDrive), so the coarsest common one, a second, is what Baton counts on.
    /// </remarks>
    public StoreCapabilities Capabilities { get; } = new(AtomicCreate: false, Concurrency: 4) { ChangeResolution = TimeSpan.FromSeconds(1) };

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        _windows.Forget(key);
        if (mode == PutMode.CreateNew)
        {
            await ThrowIfExistsAsync(key, cancellationToken).ConfigureAwait(false);
        }

        if (await UploadsAtomicallyAsync(cancellationToken).ConfigureAwait(false))
        {
            await UploadAsync(key, data, cancellationToken).ConfigureAwait(false);
            return;
        }

        var slash = key.LastIndexOf('/');
        var temp = (slash < 0 ? "" : key[..(slash + 1)]) + TempPrefix + Guid.NewGuid().ToString("N");
        RcloneResult upload;
        try
        {
            upload = await _runner.RunAsync(
                ["rcat", "--size", data.Length.ToString(CultureInfo.InvariantCulture), _address.PathOf(temp)], data, key, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A cancelled rcat was stopped part-way: on a file-backed remote its temporary file stays unless removed.
            await TryDeleteAsync(temp).ConfigureAwait(false);
            throw;
        }

        if (upload.ExitCode != 0)
        {
            await TryDeleteAsync(temp).ConfigureAwait(false);
            throw RcloneErrors.Classify(upload, _address, key, "write");
        }

        try
        {
            if (mode == PutMode.CreateNew)
            {
                // Look again just before the move: it narrows, but cannot close, the window another writer has.
                await ThrowIfExistsAsync(key, cancellationToken).ConfigureAwait(false);
            }

            var move = await _runner.RunAsync(["moveto", _address.PathOf(temp), _address.PathOf(key)], null, key, cancellationToken).ConfigureAwait(false);
            if (move.ExitCode != 0)
            {
                throw RcloneErrors.Classify(move, _address, key, "write");
            }
        }
        catch
        {
            await TryDeleteAsync(temp).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        if (length == 0)
        {
            return await StatAsync(key, cancellationToken).ConfigureAwait(false) is null
                ? throw new StoreException(StoreErrorReason.NotFound, Location, key, $"cannot read '{key}' in {Location}: not found")
                : new MemoryStream([], writable: false);
        }

        if (length > 0 && length <= RcloneReadWindows.WindowSize &&
            await _windows.ReadAsync(key, offset, length, (file, start, ct) => FetchWindowAsync(key, start, file, ct), cancellationToken).ConfigureAwait(false) is { } windowed)
        {
            return windowed;
        }

        var args = new List<string> { "cat" };
        if (offset > 0)
        {
            args.AddRange(["--offset", offset.ToString(CultureInfo.InvariantCulture)]);
        }

        if (length > 0)
        {
            args.AddRange(["--count", length.ToString(CultureInfo.InvariantCulture)]);
        }

        args.Add(_address.PathOf(key));
        var process = _runner.Start(args, key);
        var stream = await RcloneReadStream.OpenAsync(process, result => RcloneErrors.Classify(result, _address, key, "read"), cancellationToken).ConfigureAwait(false);
        if (stream.EndedEmpty && await StatAsync(key, cancellationToken).ConfigureAwait(false) is null)
        {
            // On bucket remotes (S3, GCS, ...) `rclone cat` of a missing key reads it as an empty folder and succeeds.
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new StoreException(StoreErrorReason.NotFound, Location, key, $"cannot read '{key}' in {Location}: not found");
        }

        return stream;
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var result = await _runner.RunAsync(["lsjson", "--stat", .. Describing, _address.PathOf(key)], null, key, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            return RcloneErrors.IsNotFound(result) ? null : throw RcloneErrors.Classify(result, _address, key, "stat");
        }

        var entry = JsonSerializer.Deserialize(result.Output, RcloneJson.Default.RcloneEntry);
        return entry is { IsDir: false } ? new ObjectInfo(key, entry.Size) { LastModified = entry.ModTime } : null;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // List the deepest folder the prefix names, then filter by the full prefix.
        var slash = prefix.LastIndexOf('/');
        var folder = slash < 0 ? "" : prefix[..slash];
        var path = folder.Length == 0 ? _address.Root : _address.PathOf(folder);
        var result = await _runner.RunAsync(["lsjson", "--recursive", "--files-only", .. Describing, "--fast-list", path], null, null, cancellationToken)
            .ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            if (RcloneErrors.IsNotFound(result))
            {
                yield break;
            }

            throw RcloneErrors.Classify(result, _address, null, "list");
        }

        foreach (var entry in JsonSerializer.Deserialize(result.Output, RcloneJson.Default.ListRcloneEntry) ?? [])
        {
            var key = folder.Length == 0 ? entry.Path : folder + "/" + entry.Path;
            var name = key[(key.LastIndexOf('/') + 1)..];
            if (!entry.IsDir && !name.StartsWith(TempPrefix, StringComparison.Ordinal) && key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return new ObjectInfo(key, entry.Size) { LastModified = entry.ModTime };
            }
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        _windows.Forget(key);
        var result = await _runner.RunAsync(["deletefile", _address.PathOf(key)], null, key, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0 && !RcloneErrors.IsNotFound(result))
        {
            throw RcloneErrors.Classify(result, _address, key, "delete");
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _windows.Dispose();
        return ValueTask.CompletedTask;
    }

    // One rclone cat of a read-ahead window into a local file; a missing object leaves it empty or fails, and the
    // reader then reads its range directly, which reports why.
    private async Task FetchWindowAsync(string key, long offset, string file, CancellationToken cancellationToken)
    {
        var args = new List<string> { "cat", "--count", RcloneReadWindows.WindowSize.ToString(CultureInfo.InvariantCulture) };
        if (offset > 0)
        {
            args.AddRange(["--offset", offset.ToString(CultureInfo.InvariantCulture)]);
        }

        args.Add(_address.PathOf(key));
        await using var source = await RcloneReadStream.OpenAsync(_runner.Start(args, key), result => RcloneErrors.Classify(result, _address, key, "read"), cancellationToken)
            .ConfigureAwait(false);
        await using var target = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await source.CopyToAsync(target, 1 << 20, cancellationToken).ConfigureAwait(false);
    }

    // One rcat straight to the key; a killed upload is never completed, so the key is left as it was.
    private async Task UploadAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var upload = await _runner.RunAsync(
            ["rcat", "--size", data.Length.ToString(CultureInfo.InvariantCulture), _address.PathOf(key)], data, key, cancellationToken).ConfigureAwait(false);
        if (upload.ExitCode != 0)
        {
            throw RcloneErrors.Classify(upload, _address, key, "write");
        }
    }

    // The detection never throws (an unknown backend is a move), so only the caller's cancellation can end the wait.
    private Task<bool> UploadsAtomicallyAsync(CancellationToken cancellationToken) => _uploadsAtomically.Value.WaitAsync(cancellationToken);

    // The remote's backend type: written in the address for an on-the-fly remote (":s3,provider=...:bucket"), else from
    // `rclone listremotes --long` ("name: type"), which covers config files and RCLONE_CONFIG_NAME_TYPE variables alike.
    // Anything unknown, or a listing that fails, keeps the temporary name and move.
    private async Task<bool> DetectAtomicUploadsAsync()
    {
        var root = _address.Root;
        if (root.StartsWith(':'))
        {
            var end = root.IndexOfAny([',', ':'], 1);
            return end > 1 && AtomicUploadBackends.Contains(root[1..end]);
        }

        var name = root[..root.IndexOfAny([',', ':'])];
        RcloneResult result;
        try
        {
            result = await _runner.RunAsync(["listremotes", "--long"], null, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or InvalidOperationException or IOException)
        {
            return false;
        }

        if (result.ExitCode != 0)
        {
            return false;
        }

        foreach (var line in System.Text.Encoding.UTF8.GetString(result.Output).Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon] == name)
            {
                return AtomicUploadBackends.Contains(line[(colon + 1)..].Trim());
            }
        }

        return false;
    }

    private async Task ThrowIfExistsAsync(string key, CancellationToken cancellationToken)
    {
        if (await StatAsync(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new StoreException(StoreErrorReason.AlreadyExists, Location, key, $"object '{key}' already exists in {Location}");
        }
    }

    private async Task TryDeleteAsync(string key)
    {
        try
        {
            await _runner.RunAsync(["deletefile", _address.PathOf(key)], null, key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreException)
        {
        }
    }
}
