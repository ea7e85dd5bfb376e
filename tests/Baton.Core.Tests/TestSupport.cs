using Baton.Chunking;
using Baton.Repositories;
using Baton.Storage;
using Baton.Storage.Folder;

namespace Baton.Tests;

/// <summary>Repositories for library-level tests: small chunks and packs, so that small trees span many of each.</summary>
internal static class TestRepositories
{
    public static RepositoryOptions Small { get; } = new()
    {
        Chunker = new ChunkerParameters(16 * 1024, 64 * 1024, 256 * 1024, 0x5eed),
        PackSize = 512 * 1024,
    };

    public static Task<Repository> CreateAsync(string path, RepositoryOptions? options = null) =>
        Repository.InitAsync(new FolderStore(path), options ?? Small);

    public static Task<Repository> CreateAsync(IObjectStore store, RepositoryOptions? options = null) =>
        Repository.InitAsync(store, options ?? Small);
}

/// <summary>Reports progress synchronously on the calling thread (Progress&lt;T&gt; would post it elsewhere, later).</summary>
internal sealed class SyncProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}

/// <summary>A folder store whose pack uploads fail after a number of successes, as a full disk would.</summary>
internal sealed class FailingPackStore(string root, int successes) : IObjectStore
{
    private readonly FolderStore _inner = new(root);
    private int _remaining = successes;

    public string Location => _inner.Location;

    public StoreCapabilities Capabilities => _inner.Capabilities;

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        if (key.StartsWith("data/", StringComparison.Ordinal) && Interlocked.Decrement(ref _remaining) < 0)
        {
            await Task.Delay(10, cancellationToken);
            throw new StoreException(StoreErrorReason.Full, Location, key, $"cannot write '{key}' in {Location}: no space left");
        }

        await _inner.PutAsync(key, data, mode, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default) =>
        _inner.OpenReadAsync(key, offset, length, cancellationToken);

    public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) => _inner.StatAsync(key, cancellationToken);

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => _inner.ListAsync(prefix, cancellationToken);

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => _inner.DeleteAsync(key, cancellationToken);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
