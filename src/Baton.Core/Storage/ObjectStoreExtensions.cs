namespace Baton.Storage;

/// <summary>Conveniences built only on the <see cref="IObjectStore"/> contract.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Reads a whole object into memory. Meant for small objects (config, index, manifests).</summary>
    public static async Task<byte[]> ReadAllAsync(this IObjectStore store, string key, CancellationToken cancellationToken = default)
    {
        await using var stream = await store.OpenReadAsync(key, 0, -1, cancellationToken).ConfigureAwait(false);
        return await ReadToEndAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes at <paramref name="offset"/>; a short object is an error.</summary>
    public static async Task<byte[]> ReadRangeAsync(this IObjectStore store, string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[length];
        await using var stream = await store.OpenReadAsync(key, offset, length, cancellationToken).ConfigureAwait(false);
        var read = await stream.ReadAtLeastAsync(buffer, length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read != length)
        {
            throw new StoreException(StoreErrorReason.Transient, store.Location, key,
                $"short read of '{key}' in {store.Location}: wanted {length} bytes at offset {offset}, got {read}");
        }

        return buffer;
    }

    /// <summary>Lists the keys under a prefix into a list.</summary>
    public static async Task<List<ObjectInfo>> ListAllAsync(this IObjectStore store, string prefix, CancellationToken cancellationToken = default)
    {
        var result = new List<ObjectInfo>();
        await foreach (var info in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            result.Add(info);
        }

        return result;
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var memory = stream.CanSeek ? new MemoryStream((int)Math.Min(stream.Length, int.MaxValue)) : new MemoryStream();
        await stream.CopyToAsync(memory, cancellationToken).ConfigureAwait(false);
        return memory.ToArray();
    }
}
