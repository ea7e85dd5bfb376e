namespace Baton.Storage.Folder;

/// <summary>Opens folder stores for plain paths and <c>file://</c> URIs.</summary>
public sealed class FolderStoreProvider : IStoreProvider
{
    /// <inheritdoc />
    public IReadOnlyList<string> Schemes { get; } = ["file"];

    /// <inheritdoc />
    public IReadOnlyList<string> AddressForms { get; } = ["a folder path", "file:///PATH"];

    /// <inheritdoc />
    public IObjectStore Create(StoreUri uri)
    {
        var path = uri.Body;
        if (uri.Original.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            if (!path.StartsWith("//", StringComparison.Ordinal))
            {
                throw new UsageException($"malformed folder store '{uri.Redacted}': use file:///absolute/path or a plain path");
            }

            path = Uri.UnescapeDataString(path[2..]);
            if (path.Length == 0 || path[0] != '/')
            {
                throw new UsageException($"malformed folder store '{uri.Redacted}': use file:///absolute/path (three slashes) or a plain path");
            }
        }

        // A repository at '/' would list (and count as its own) the whole file system.
        var full = Path.GetFullPath(path);
        if (string.Equals(Path.GetPathRoot(full), full, StringComparison.Ordinal))
        {
            throw new UsageException($"the file system root '{full}' cannot be a store: give a folder for the repository, e.g. /mnt/drive/baton");
        }

        return new FolderStore(path);
    }
}
