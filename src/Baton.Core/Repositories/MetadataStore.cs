using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Baton.Storage;

namespace Baton.Repositories;

/// <summary>Reads and writes small JSON objects in the metadata envelope (checksummed, compressed).</summary>
internal static class MetadataStore
{
    public static async Task WriteAsync<T>(IObjectStore store, string key, T value, JsonTypeInfo<T> type, PutMode mode, CancellationToken cancellationToken)
    {
        var data = MetadataEnvelope.Wrap(JsonSerializer.SerializeToUtf8Bytes(value, type));
        await store.PutAsync(key, data, mode, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads an object; <c>null</c> when it does not exist.</summary>
    /// <exception cref="IntegrityException">The object is corrupt.</exception>
    public static async Task<T?> TryReadAsync<T>(IObjectStore store, string key, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        byte[] data;
        try
        {
            data = await store.ReadAllAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
        {
            return null;
        }

        var what = $"'{key}' in {store.Location}";
        var (json, _) = MetadataEnvelope.Unwrap(data, what);
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new IntegrityException($"{what} is corrupt: empty");
        }
        catch (JsonException e)
        {
            throw new IntegrityException($"{what} is corrupt: {e.Message}", e);
        }
    }
}
