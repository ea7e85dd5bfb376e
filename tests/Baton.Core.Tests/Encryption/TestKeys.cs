using Baton.Chunking;
using Baton.Encryption;
using Baton.Repositories;

namespace Baton.Tests.Encryption;

/// <summary>Credentials and options for encrypted repositories in tests (a cheap Argon2id so tests stay fast).</summary>
internal static class TestKeys
{
    public static readonly Argon2Parameters CheapArgon2 = new(64, 1, 1);

    public static RepositoryCredentials Password(string password = "correct horse battery staple") =>
        RepositoryCredentials.FromPassword(password, "the test");

    public static RepositoryOptions Options(RepositoryCredentials? credentials) => new()
    {
        Credentials = credentials,
        Argon2 = CheapArgon2,
        PackSize = 256 * 1024,
        Chunker = new ChunkerParameters(16 * 1024, 64 * 1024, 256 * 1024, 42),
    };

    public static RepositoryOptions Encrypted(string password = "correct horse battery staple") => Options(Password(password));

    /// <summary>A cipher with a fresh random master key.</summary>
    public static AesGcmCipher NewCipher()
    {
        using var master = MasterKey.Generate();
        return new AesGcmCipher(master);
    }
}
