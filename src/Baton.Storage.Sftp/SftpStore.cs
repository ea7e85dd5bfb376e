using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Baton.Storage.Decorators;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Baton.Storage.Sftp;

/// <summary>
/// A store in a folder on an SFTP server. Writes go to a temporary name beside the target and are renamed into place,
/// so readers see whole objects only. Create-if-absent uses the plain SFTP rename, which OpenSSH's server refuses when
/// the target exists (it links the new name, and link never replaces), so two racing writers cannot both win; an
/// overwrite uses OpenSSH's <c>posix-rename</c>, which replaces atomically.
/// </summary>
public sealed class SftpStore : IObjectStore
{
    private const string TempPrefix = ".tmp-";
    private readonly SftpAddress _address;
    private readonly SftpConnection _connection;
    private readonly ConcurrentDictionary<string, bool> _knownDirectories = new(StringComparer.Ordinal);

    /// <summary>Creates a store for an address; nothing is contacted until the first operation.</summary>
    public SftpStore(SftpAddress address, SftpSettings settings)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(settings);
        _address = address;
        Location = address.Display;
        _connection = new SftpConnection(address, settings, Location);
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <inheritdoc />
    /// <remarks>
    /// SFTP version 3 (what OpenSSH serves) reports modification times in whole seconds and no version tag, so two
    /// overwrites of the same size within one second look the same.
    /// </remarks>
    public StoreCapabilities Capabilities { get; } = new(AtomicCreate: true, Concurrency: 4) { ChangeResolution = TimeSpan.FromSeconds(1) };

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var directory = ParentOf(path);
        var temp = Join(directory, TempPrefix + Guid.NewGuid().ToString("N"));
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await UploadAsync(client, temp, directory, data, cancellationToken).ConfigureAwait(false);
            if (mode == PutMode.CreateNew)
            {
                await client.RenameFileAsync(temp, path, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // posix-rename@openssh.com replaces the target atomically; SSH.NET offers it only synchronously.
                await Task.Run(() => client.RenameFile(temp, path, isPosix: true), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SshException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            await TryDeleteAsync(client, temp).ConfigureAwait(false);
            if (mode == PutMode.CreateNew && e is SftpException && await ExistsAsync(client, path).ConfigureAwait(false))
            {
                throw new StoreException(StoreErrorReason.AlreadyExists, Location, key, $"object '{key}' already exists in {Location}", e);
            }

            throw SftpErrors.Operation(e, Location, key, "write");
        }
        catch
        {
            await TryDeleteAsync(client, temp).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var file = await client.OpenAsync(path, FileMode.Open, FileAccess.Read, cancellationToken).ConfigureAwait(false);
            if (offset > 0)
            {
                file.Seek(offset, SeekOrigin.Begin);
            }

            return new CancellableReads(length >= 0 ? new BoundedStream(file, length) : file);
        }
        catch (Exception e) when (e is SshException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw SftpErrors.Operation(e, Location, key, "read");
        }
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var attributes = await client.GetAttributesAsync(path, cancellationToken).ConfigureAwait(false);
            return attributes.IsRegularFile ? new ObjectInfo(key, attributes.Size) { LastModified = Utc(attributes.LastWriteTimeUtc) } : null;
        }
        catch (SftpPathNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is SshException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw SftpErrors.Operation(e, Location, key, "stat");
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);

        // Start at the deepest folder the prefix names, then filter by the full prefix.
        var slash = prefix.LastIndexOf('/');
        var startKey = slash < 0 ? "" : prefix[..slash];
        var pending = new Stack<string>();
        pending.Push(startKey);
        while (pending.Count > 0)
        {
            var folderKey = pending.Pop();
            var entries = await ListFolderAsync(client, folderKey, prefix, cancellationToken).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                var key = folderKey.Length == 0 ? entry.Name : folderKey + "/" + entry.Name;
                if (entry.IsDirectory)
                {
                    if (key.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(key + "/", StringComparison.Ordinal))
                    {
                        pending.Push(key);
                    }
                }
                else if (entry.IsRegularFile && !entry.Name.StartsWith(TempPrefix, StringComparison.Ordinal) && key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    yield return new ObjectInfo(key, entry.Length) { LastModified = Utc(entry.LastWriteTimeUtc) };
                }
            }
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await client.DeleteFileAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (SftpPathNotFoundException)
        {
        }
        catch (Exception e) when (e is SshException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw SftpErrors.Operation(e, Location, key, "delete");
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }

    // The modification time is the only validator SFTP version 3 gives, in whole seconds (see Capabilities).
    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    private Task<SftpClient> ConnectAsync(CancellationToken cancellationToken) => _connection.GetAsync(cancellationToken);

    private async Task<List<Renci.SshNet.Sftp.ISftpFile>> ListFolderAsync(SftpClient client, string folderKey, string prefix, CancellationToken cancellationToken)
    {
        var entries = new List<Renci.SshNet.Sftp.ISftpFile>();
        try
        {
            await foreach (var entry in client.ListDirectoryAsync(Join(_address.Path, folderKey), cancellationToken).ConfigureAwait(false))
            {
                if (entry.Name is not "." and not "..")
                {
                    entries.Add(entry);
                }
            }
        }
        catch (SftpPathNotFoundException)
        {
        }
        catch (Exception e) when (e is SshException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw SftpErrors.Operation(e, Location, prefix, "list");
        }

        return entries;
    }

    private async Task UploadAsync(SftpClient client, string temp, string directory, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var source = AsStream(data);
        try
        {
            await client.UploadFileAsync(source, temp, canOverride: false, null, cancellationToken).ConfigureAwait(false);
        }
        catch (SftpPathNotFoundException)
        {
            // The folder is missing: create it (and its parents) once, then write again.
            await CreateDirectoriesAsync(client, directory, cancellationToken).ConfigureAwait(false);
            source.Position = 0;
            await client.UploadFileAsync(source, temp, canOverride: false, null, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CreateDirectoriesAsync(SftpClient client, string directory, CancellationToken cancellationToken)
    {
        var missing = new Stack<string>();
        for (var current = directory; current.Length > 0 && current != "/" && !_knownDirectories.ContainsKey(current); current = ParentOf(current))
        {
            if (await ExistsAsync(client, current).ConfigureAwait(false))
            {
                break;
            }

            missing.Push(current);
        }

        while (missing.TryPop(out var folder))
        {
            try
            {
                await client.CreateDirectoryAsync(folder, cancellationToken).ConfigureAwait(false);
            }
            catch (SftpException)
            {
                // Another writer may have created it first; anything else shows when the write is tried again.
            }

            _knownDirectories[folder] = true;
        }
    }

    private static async Task<bool> ExistsAsync(SftpClient client, string path)
    {
        try
        {
            return await client.ExistsAsync(path, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SshException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static async Task TryDeleteAsync(SftpClient client, string path)
    {
        try
        {
            await client.DeleteFileAsync(path, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SshException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
        }
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    private string PathOf(string key)
    {
        StoreKeys.Validate(key);
        return Join(_address.Path, key);
    }

    private static string Join(string folder, string name) =>
        name.Length == 0 ? folder : folder.Length == 0 ? name : folder.EndsWith('/') ? folder + name : folder + "/" + name;

    private static string ParentOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? "" : slash == 0 ? "/" : path[..slash];
    }

    // SSH.NET's file stream answers a read from its buffer without looking at the token; a cancelled read must throw.
    private sealed class CancellableReads(Stream inner) : ReadStreamDecorator(inner)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            cancellationToken.IsCancellationRequested
                ? ValueTask.FromCanceled<int>(cancellationToken)
                : base.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
