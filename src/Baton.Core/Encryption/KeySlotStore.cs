using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Baton.Storage;

namespace Baton.Encryption;

/// <summary>Reads and writes key slots (<c>keys/ID</c>) and opens the master secret with a password or key file.</summary>
internal static class KeySlotStore
{
    /// <summary>Prefix of key slots.</summary>
    public const string Prefix = RepositoryLayout.KeysPrefix;

    /// <summary>Whether <paramref name="key"/> is named like a key slot (<c>keys/</c> and 16 lowercase hex digits).</summary>
    public static bool IsSlotKey(string key) =>
        key.Length == Prefix.Length + 16 && key.StartsWith(Prefix, StringComparison.Ordinal) && key[Prefix.Length..].All(char.IsAsciiHexDigitLower);

    /// <summary>Seals <paramref name="master"/> under <paramref name="credentials"/> in a new slot.</summary>
    public static async Task<KeySlot> AddAsync(IObjectStore store, string repositoryId, MasterKey master, RepositoryCredentials credentials,
        Argon2Parameters argon2, string host, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (credentials.Kind == CredentialKind.Password && !argon2.IsReasonable)
        {
            throw new UsageException($"key derivation cost {argon2.MemoryKiB} KiB, {argon2.Iterations} passes, {argon2.Parallelism} lanes is outside the bound of {Argon2Parameters.Bound}: no reader would try it");
        }

        var kdf = KeyDerivation.NewParameters(credentials, argon2);
        var kek = await KeyDerivation.DeriveAsync(kdf, credentials, cancellationToken).ConfigureAwait(false);
        try
        {
            var sealedMaster = new byte[MasterKey.Size + AesGcmCipher.NonceSize + AesGcmCipher.TagSize];
            AesGcmCipher.SealWith(kek, AssociatedData(repositoryId), master.Secret, sealedMaster);
            var slot = new KeySlot
            {
                Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
                Created = now,
                Host = host,
                Kind = credentials.Kind == CredentialKind.Password ? "password" : "key-file",
                Kdf = kdf,
                Check = Convert.ToBase64String(KeyDerivation.CheckValue(kek)),
                Master = Convert.ToBase64String(sealedMaster),
            };
            await store.PutAsync(RepositoryLayout.KeySlotKey(slot.Id), JsonSerializer.SerializeToUtf8Bytes(slot, EncryptionJson.Default.KeySlot), PutMode.CreateNew, cancellationToken)
                .ConfigureAwait(false);
            return slot;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    /// <summary>Opens the master secret with the first slot that <paramref name="credentials"/> fit.</summary>
    /// <exception cref="BatonException">No slot fits: a wrong password or key file (<see cref="ErrorCategory.Access"/>).</exception>
    /// <exception cref="IntegrityException">The repository has no readable slot, or the fitting slot is damaged.</exception>
    public static async Task<(MasterKey Master, KeySlot Slot)> UnlockAsync(IObjectStore store, string repositoryId, RepositoryCredentials credentials,
        CancellationToken cancellationToken)
    {
        var slots = await ListAsync(store, cancellationToken).ConfigureAwait(false);
        if (slots.Count == 0)
        {
            throw new IntegrityException($"the encrypted repository at {store.Location} has no readable key in {Prefix}: it cannot be opened");
        }

        var refused = new List<string>();
        foreach (var slot in slots.Where(s => KeyDerivation.Fits(s.Kdf, credentials)))
        {
            // A slot may name any cost; one beyond the bound would stall or exhaust this machine, so it is not tried.
            if (KeyDerivation.WhyRefused(slot.Kdf) is { } why)
            {
                refused.Add($"key {Prefix}{slot.Id} in {store.Location} was not tried: {why}");
                continue;
            }

            if (await TryOpenAsync(store, repositoryId, slot, credentials, cancellationToken).ConfigureAwait(false) is { } master)
            {
                return (master, slot);
            }
        }

        if (refused.Count > 0)
        {
            throw new IntegrityException($"{string.Join("; ", refused)}; open the repository with another key and remove it ('baton key remove ID'), or restore it from a copy");
        }

        var what = credentials.Kind == CredentialKind.Password ? "wrong password" : "wrong key file";
        throw new BatonException(ErrorCategory.Access, $"{what}: no key of the repository at {store.Location} opens with {credentials}");
    }

    /// <summary>The readable slots, sorted by creation time. Unreadable ones are left out (they open nothing).</summary>
    public static async Task<IReadOnlyList<KeySlot>> ListAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        var slots = new List<KeySlot>();
        foreach (var info in await store.ListAllAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            byte[] data;
            try
            {
                data = await store.ReadAllAsync(info.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
            {
                continue; // removed since the listing
            }

            if (Parse(data) is { } slot && info.Key == RepositoryLayout.KeySlotKey(slot.Id))
            {
                slots.Add(slot);
            }
        }

        return [.. slots.OrderBy(s => s.Created).ThenBy(s => s.Id, StringComparer.Ordinal)];
    }

    /// <summary>Whether <paramref name="data"/> is a slot this build can use, stored under its own id.</summary>
    public static bool IsIntact(string key, byte[] data) =>
        Parse(data) is { } slot && key == RepositoryLayout.KeySlotKey(slot.Id) && TryBase64(slot.Check, out _) && TryBase64(slot.Master, out var master)
        && master.Length == MasterKey.Size + AesGcmCipher.NonceSize + AesGcmCipher.TagSize;

    // Binds a slot to its repository: a slot copied from another repository opens nothing here.
    private static byte[] AssociatedData(string repositoryId) => Encoding.ASCII.GetBytes("baton/key-slot/" + repositoryId);

    private static async Task<MasterKey?> TryOpenAsync(IObjectStore store, string repositoryId, KeySlot slot, RepositoryCredentials credentials,
        CancellationToken cancellationToken)
    {
        byte[] kek;
        try
        {
            kek = await KeyDerivation.DeriveAsync(slot.Kdf, credentials, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            return null; // a slot with unusable parameters opens nothing
        }

        var secret = new byte[MasterKey.Size];
        try
        {
            if (!TryBase64(slot.Check, out var check) || !CryptographicOperations.FixedTimeEquals(check, KeyDerivation.CheckValue(kek)))
            {
                return null;
            }

            // The check fits, so the password is right: a master that does not open means the slot was damaged.
            if (!TryBase64(slot.Master, out var sealedMaster) || sealedMaster.Length != secret.Length + AesGcmCipher.NonceSize + AesGcmCipher.TagSize)
            {
                throw new IntegrityException($"key {Prefix}{slot.Id} in {store.Location} is damaged: its sealed master key is malformed");
            }

            try
            {
                AesGcmCipher.OpenWith(kek, AssociatedData(repositoryId), sealedMaster, secret);
            }
            catch (InvalidDataException e)
            {
                throw new IntegrityException($"key {Prefix}{slot.Id} in {store.Location} is damaged or belongs to another repository: {e.Message}", e);
            }

            return MasterKey.FromBytes(secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private static KeySlot? Parse(byte[] data)
    {
        try
        {
            var slot = JsonSerializer.Deserialize(data, EncryptionJson.Default.KeySlot);
            return slot is { Version: <= KeySlot.CurrentVersion } ? slot : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
