using Baton.Packs;
using Baton.Storage;

namespace Baton.Index;

/// <summary>The packs a store holds, from one listing of <c>data/</c>.</summary>
public static class StoredPacks
{
    /// <summary>Lists the packs under <c>data/</c> with their sizes; other objects there are ignored.</summary>
    /// <exception cref="StoreException">The store cannot be listed.</exception>
    public static async Task<IReadOnlyDictionary<ContentId, long>> ListAsync(IObjectStore store, CancellationToken cancellationToken = default)
    {
        var sizes = new Dictionary<ContentId, long>();
        await foreach (var info in store.ListAsync(RepositoryLayout.DataPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (PackFormat.TryParseKey(info.Key, out var id))
            {
                sizes[id] = info.Size;
            }
        }

        return sizes;
    }
}
