using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Baton.Storage;

namespace Baton.Repositories;

/// <summary>
/// Reads and writes small JSON objects of a repository in the metadata envelope (checksummed, compressed, and sealed
/// when the repository is encrypted).
/// </summary>
internal static class MetadataStore
{
    /// <summary>The newest version of the small records (legs, leases, tags, marks, in-flight markers) this build reads.</summary>
    public const int CurrentVersion = 1;

    public static async Task WriteAsync<T>(Repository repository, string key, T value, JsonTypeInfo<T> type, PutMode mode, CancellationToken cancellationToken)
    {
        var data = MetadataEnvelope.Wrap(JsonSerializer.SerializeToUtf8Bytes(value, type), repository.Cipher);
        await repository.Store.PutAsync(key, data, mode, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads an object; <c>null</c> when it does not exist.</summary>
    /// <exception cref="IntegrityException">The object is corrupt.</exception>
    public static async Task<T?> TryReadAsync<T>(Repository repository, string key, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        var store = repository.Store;
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
        var (json, _) = MetadataEnvelope.Unwrap(data, what, repository.Cipher);

        // Every kind starts at version 1 (records written before versions existed have none); a newer one is refused
        // before it binds, so that an older baton never acts on it or rewrites it.
        Repository.RefuseNewerVersion(json, CurrentVersion, what, "format version");
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
