using Baton.Storage;

namespace Baton.Encryption;

/// <summary>
/// The keys of an encrypted repository, opened with one of them. Adding and removing keys rewrites only the
/// <c>keys/</c> slots: the master secret, and so every sealed object, stays the same.
/// </summary>
public sealed class KeyRing
{
    private readonly IObjectStore _store;
    private readonly string _repositoryId;
    private readonly Argon2Parameters _argon2;
    private readonly string _hostName;
    private readonly TimeProvider _timeProvider;
    private readonly MasterKey _master;

    // The repository's store, id and key-derivation cost, not the repository itself: keys sit below it (docs/DESIGN.md, "Layers").
    internal KeyRing(IObjectStore store, string repositoryId, Argon2Parameters argon2, string hostName, TimeProvider timeProvider, MasterKey master,
        KeySlot current)
    {
        _store = store;
        _repositoryId = repositoryId;
        _argon2 = argon2;
        _hostName = hostName;
        _timeProvider = timeProvider;
        _master = master;
        Current = current;
    }

    /// <summary>The slot the repository was opened with.</summary>
    public KeySlot Current { get; }

    /// <summary>Adds a key that opens the repository with <paramref name="credentials"/>.</summary>
    public Task<KeySlot> AddAsync(RepositoryCredentials credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        return KeySlotStore.AddAsync(_store, _repositoryId, _master, credentials, _argon2, _hostName, _timeProvider.GetUtcNow(), cancellationToken);
    }

    /// <summary>Every readable key, oldest first.</summary>
    public Task<IReadOnlyList<KeySlot>> ListAsync(CancellationToken cancellationToken = default) =>
        KeySlotStore.ListAsync(_store, cancellationToken);

    /// <summary>Removes the key whose id starts with <paramref name="id"/>.</summary>
    /// <exception cref="UsageException">No key or several match, it is the last key, or it is the key in use.</exception>
    public async Task<KeySlot> RemoveAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var slots = await ListAsync(cancellationToken).ConfigureAwait(false);
        var matches = id.Length == 0 ? [] : slots.Where(s => s.Id.StartsWith(id, StringComparison.OrdinalIgnoreCase)).ToList();
        var slot = matches.Count switch
        {
            1 => matches[0],
            0 => throw new UsageException($"no key '{id}' in {_store.Location}: 'baton key list' lists them"),
            _ => throw new UsageException($"key id '{id}' is ambiguous: give more digits"),
        };
        if (slots.Count == 1)
        {
            throw new UsageException($"key {slot.Id} is the repository's last key: add another first ('baton key add'), or the data can never be read again");
        }

        if (slot.Id == Current.Id)
        {
            throw new UsageException($"key {slot.Id} is the one this command opened the repository with: open it with another key to remove this one");
        }

        await _store.DeleteAsync(RepositoryLayout.KeySlotKey(slot.Id), cancellationToken).ConfigureAwait(false);
        return slot;
    }
}
