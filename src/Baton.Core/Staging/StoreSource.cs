using Baton.Storage;

namespace Baton.Staging;

/// <summary>
/// Files in a store that the registry opens (<c>s3://</c>, <c>az://</c>, <c>sftp://</c>, <c>rclone:</c>, private
/// <c>gs://</c>): one object when the address names one, else every object under the address, as a folder.
/// </summary>
internal static class StoreSource
{
    /// <summary>Describes the files at <paramref name="address"/>; the stores opened are added to <paramref name="opened"/> for the caller to dispose.</summary>
    public static async Task<(List<RemoteFile> Files, bool Folder)> DescribeAsync(StoreRegistry registry, string address, List<IObjectStore> opened, CancellationToken cancellationToken)
    {
        if (SplitObject(address) is var (parentAddress, key))
        {
            var parent = registry.Open(parentAddress);
            opened.Add(parent);
            if (await parent.StatAsync(key, cancellationToken).ConfigureAwait(false) is { } info)
            {
                return ([Describe(parent, address, info, key, key[(key.LastIndexOf('/') + 1)..])], false);
            }
        }

        var folder = registry.Open(address);
        opened.Add(folder);
        var files = new List<RemoteFile>();
        await foreach (var info in folder.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            files.Add(Describe(folder, address.TrimEnd('/') + "/" + info.Key, info, info.Key, info.Key));
        }

        return files.Count > 0 ? (files, true) : throw new UsageException($"nothing at {StoreUri.Parse(address).Redacted}: no object or folder by that name");
    }

    /// <summary>
    /// Splits an address into the store holding its last segment and that segment as a key, or null when the address
    /// can only be a folder (it ends with '/', or names only a bucket or remote).
    /// </summary>
    public static (string Parent, string Key)? SplitObject(string address)
    {
        if (address.EndsWith('/'))
        {
            return null;
        }

        var scheme = address.IndexOf("://", StringComparison.Ordinal);
        int rootEnd;
        if (scheme >= 0)
        {
            rootEnd = address.IndexOf('/', scheme + 3);
            if (rootEnd < 0)
            {
                return null;
            }
        }
        else
        {
            // rclone:REMOTE:PATH (or rclone::backend:PATH): the path starts after the remote's colon.
            var first = address.IndexOf(':', StringComparison.Ordinal);
            var remoteColon = first < 0 ? -1 : address.IndexOf(':', first + 1 < address.Length && address[first + 1] == ':' ? first + 2 : first + 1);
            if (remoteColon < 0)
            {
                return null;
            }

            rootEnd = remoteColon;
        }

        var slash = address.LastIndexOf('/');
        if (slash > rootEnd)
        {
            return (address[..slash], address[(slash + 1)..]);
        }

        var name = address[(rootEnd + 1)..];
        return name.Length == 0 ? null : (address[..(rootEnd + 1)], name);
    }

    private static RemoteFile Describe(IObjectStore store, string identity, ObjectInfo info, string key, string relativePath) => new()
    {
        Identity = identity,
        Display = store.Location.TrimEnd('/') + "/" + key,
        RelativePath = relativePath,
        Size = info.Size,
        ETag = info.VersionTag,
        LastModified = info.LastModified,
        SupportsRanges = true,
        Reader = new StoreReader(store, key, info),
    };

    /// <summary>
    /// Reads an object by ranges. Store reads carry no precondition, so once the download is whole the object is
    /// described again: validators that moved mean the bytes may mix two versions, and the download starts over.
    /// </summary>
    private sealed class StoreReader(IObjectStore store, string key, ObjectInfo described) : IRangeReader
    {
        public async Task EnsureUnchangedAsync(CancellationToken cancellationToken)
        {
            ObjectInfo? now;
            try
            {
                now = await store.StatAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.Transient)
            {
                throw new TransientSourceException(e.Message, e);
            }

            if (now != described)
            {
                var where = store.Location.TrimEnd('/') + "/" + key;
                throw new SourceChangedException(now is null ? $"{where} was deleted while it was being downloaded" : $"{where} changed while it was being downloaded");
            }
        }

        public async Task<Stream> OpenAsync(long offset, long length, CancellationToken cancellationToken)
        {
            try
            {
                return await store.OpenReadAsync(key, offset, length, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.Transient)
            {
                throw new TransientSourceException(e.Message, e);
            }
        }
    }
}
