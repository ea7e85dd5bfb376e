using Baton.Repositories;

namespace Baton.Encryption;

/// <summary>
/// The keys of an encrypted repository, opened with one of them. Adding and removing keys rewrites only the
/// <c>keys/</c> slots: the master secret, and so every sealed object, stays the same.
/// </summary>
public sealed class KeyRing
{
    private readonly Repository _repository;
    private readonly MasterKey _master;

    internal KeyRing(Repository repository, MasterKey master, KeySlot current)
    {
        _repository = repository;
        _master = master;
        Current = current;
    }

    /// <summary>The slot the repository was opened with.</summary>
    public KeySlot Current { get; }

    /// <summary>Adds a key that opens the repository with <paramref name="credentials"/>.</summary>
    public Task<KeySlot> AddAsync(RepositoryCredentials credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var argon2 = _repository.Config.Encryption?.Kdf ?? Argon2Parameters.Default;
        return KeySlotStore.AddAsync(_repository.Store, _repository.Config.Id, _master, credentials, argon2, _repository.Options.HostName,
            _repository.Options.TimeProvider.GetUtcNow(), cancellationToken);
    }

    /// <summary>Every readable key, oldest first.</summary>
    public Task<IReadOnlyList<KeySlot>> ListAsync(CancellationToken cancellationToken = default) =>
        KeySlotStore.ListAsync(_repository.Store, cancellationToken);

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
            0 => throw new UsageException($"no key '{id}' in {_repository.Store.Location}: 'baton key list' lists them"),
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

        await _repository.Store.DeleteAsync(KeySlotStore.Prefix + slot.Id, cancellationToken).ConfigureAwait(false);
        return slot;
    }
}
