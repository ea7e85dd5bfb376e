using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace Baton.Encryption;

/// <summary>Turns a password (Argon2id) or a key file (HKDF-SHA256) into a slot's key-encryption key.</summary>
internal static class KeyDerivation
{
    public const string Argon2id = "argon2id";
    public const string HkdfSha256 = "hkdf-sha256";
    public const int KeySize = 32;
    public const int SaltSize = 16;

    /// <summary>New slot parameters for <paramref name="credentials"/> with a fresh salt.</summary>
    public static SlotKdf NewParameters(RepositoryCredentials credentials, Argon2Parameters argon2)
    {
        var salt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(SaltSize));
        return credentials.Kind == CredentialKind.Password
            ? new SlotKdf { Algorithm = Argon2id, Salt = salt, MemoryKiB = argon2.MemoryKiB, Iterations = argon2.Iterations, Parallelism = argon2.Parallelism }
            : new SlotKdf { Algorithm = HkdfSha256, Salt = salt };
    }

    /// <summary>Whether a slot was made for this kind of credential.</summary>
    public static bool Fits(SlotKdf kdf, RepositoryCredentials credentials) =>
        kdf.Algorithm == (credentials.Kind == CredentialKind.Password ? Argon2id : HkdfSha256);

    /// <summary>Why a slot's key derivation is refused before it runs (its algorithm is unknown or its cost beyond <see cref="Argon2Parameters.Bound"/>); null when it may run.</summary>
    public static string? WhyRefused(SlotKdf kdf)
    {
        if (kdf.Algorithm == HkdfSha256)
        {
            return null;
        }

        if (kdf.Algorithm != Argon2id)
        {
            return $"its key derivation '{kdf.Algorithm}' is unknown";
        }

        var cost = new Argon2Parameters(kdf.MemoryKiB ?? 0, kdf.Iterations ?? 0, kdf.Parallelism ?? 0);
        return cost.IsReasonable ? null
            : $"it asks for Argon2id with {cost.MemoryKiB} KiB, {cost.Iterations} passes and {cost.Parallelism} lanes, outside the bound of {Argon2Parameters.Bound}";
    }

    /// <summary>Derives the key-encryption key. CPU- and memory-bound for passwords (runs off the caller's thread).</summary>
    /// <exception cref="InvalidDataException">The slot's parameters are malformed or unreasonable.</exception>
    public static async Task<byte[]> DeriveAsync(SlotKdf kdf, RepositoryCredentials credentials, CancellationToken cancellationToken)
    {
        byte[] salt;
        try
        {
            salt = Convert.FromBase64String(kdf.Salt);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException("salt is not base64", e);
        }

        if (salt.Length is < SaltSize or > 64)
        {
            throw new InvalidDataException("salt has the wrong length");
        }

        if (kdf.Algorithm == HkdfSha256)
        {
            var key = new byte[KeySize];
            HKDF.DeriveKey(HashAlgorithmName.SHA256, credentials.Secret, key, salt, "baton/v1/key-file"u8);
            return key;
        }

        var cost = new Argon2Parameters(kdf.MemoryKiB ?? 0, kdf.Iterations ?? 0, kdf.Parallelism ?? 0);
        if (kdf.Algorithm != Argon2id || !cost.IsReasonable)
        {
            throw new InvalidDataException($"unusable key derivation '{kdf.Algorithm}' ({cost.MemoryKiB} KiB, {cost.Iterations} passes, {cost.Parallelism} lanes)");
        }

        var password = credentials.Secret.ToArray();
        try
        {
            return await Task.Run(() =>
            {
                using var argon2 = new Argon2id(password)
                {
                    Salt = salt,
                    MemorySize = cost.MemoryKiB,
                    Iterations = cost.Iterations,
                    DegreeOfParallelism = cost.Parallelism,
                };
                return argon2.GetBytes(KeySize);
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    /// <summary>The check value stored in a slot: proves a key-encryption key right without opening the master.</summary>
    public static byte[] CheckValue(byte[] keyEncryptionKey) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, keyEncryptionKey, 16, salt: [], info: Encoding.ASCII.GetBytes("baton/v1/key-check"));
}
