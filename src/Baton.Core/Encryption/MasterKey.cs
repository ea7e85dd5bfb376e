using System.Security.Cryptography;
using System.Text;

namespace Baton.Encryption;

/// <summary>
/// The random master secret of an encrypted repository. It never leaves the process unsealed: key slots hold it sealed
/// under a key-encryption key, and every working key is derived from it with HKDF-SHA256 under its own label.
/// </summary>
internal sealed class MasterKey : IDisposable
{
    /// <summary>Length of the secret in bytes.</summary>
    public const int Size = 32;

    private readonly byte[] _secret;

    private MasterKey(byte[] secret)
    {
        _secret = secret;
    }

    /// <summary>A fresh random secret.</summary>
    public static MasterKey Generate() => new(RandomNumberGenerator.GetBytes(Size));

    /// <summary>A secret opened from a key slot.</summary>
    /// <exception cref="InvalidDataException">It has the wrong length.</exception>
    public static MasterKey FromBytes(ReadOnlySpan<byte> secret) =>
        secret.Length == Size ? new MasterKey(secret.ToArray()) : throw new InvalidDataException("master key has the wrong length");

    /// <summary>The secret itself, for sealing it into a new key slot.</summary>
    public ReadOnlySpan<byte> Secret => _secret;

    /// <summary>Derives the key for one purpose (<c>data</c>, <c>chunk-id</c>, <c>name</c>, <c>chunker-seed</c>).</summary>
    public byte[] Derive(string purpose, int length) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, length, salt: [], info: Encoding.UTF8.GetBytes("baton/v1/" + purpose));

    /// <inheritdoc />
    public void Dispose() => CryptographicOperations.ZeroMemory(_secret);
}
