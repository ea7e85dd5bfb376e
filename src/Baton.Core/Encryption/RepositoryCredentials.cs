using System.Security.Cryptography;
using System.Text;

namespace Baton.Encryption;

/// <summary>What kind of secret opens an encrypted repository.</summary>
public enum CredentialKind
{
    /// <summary>A passphrase, stretched with Argon2id.</summary>
    Password,

    /// <summary>The bytes of a key file (high-entropy already), expanded with HKDF.</summary>
    KeyFile,
}

/// <summary>
/// A passphrase or key file for an encrypted repository. The secret never appears in <see cref="ToString"/>,
/// messages or logs: only <see cref="Source"/> (where it came from, such as <c>BATON_PASSWORD</c>) does.
/// </summary>
public sealed class RepositoryCredentials
{
    /// <summary>The fewest bytes a key file may hold.</summary>
    public const int MinimumKeyFileSize = 32;

    private readonly byte[] _secret;

    private RepositoryCredentials(CredentialKind kind, byte[] secret, string source)
    {
        Kind = kind;
        _secret = secret;
        Source = source;
    }

    /// <summary>Password or key file.</summary>
    public CredentialKind Kind { get; }

    /// <summary>Where the secret came from, for messages (a flag and file name, or a variable name; never the secret).</summary>
    public string Source { get; }

    /// <summary>The secret bytes (UTF-8 of a password, or a key file's content).</summary>
    internal ReadOnlySpan<byte> Secret => _secret;

    /// <summary>A password given directly (from an environment variable, say).</summary>
    /// <exception cref="UsageException">It is empty.</exception>
    public static RepositoryCredentials FromPassword(string password, string source)
    {
        ArgumentNullException.ThrowIfNull(password);
        return password.Length == 0
            ? throw new UsageException($"the password from {source} is empty")
            : new RepositoryCredentials(CredentialKind.Password, Encoding.UTF8.GetBytes(password), source);
    }

    /// <summary>A password read from a file; one trailing line break is not part of it.</summary>
    /// <exception cref="UsageException">The file cannot be read or holds an empty password.</exception>
    public static RepositoryCredentials FromPasswordFile(string path, string source)
    {
        var text = ReadFile(path, source, "password file");
        var password = Encoding.UTF8.GetString(text);
        CryptographicOperations.ZeroMemory(text);
        if (password.EndsWith('\n'))
        {
            password = password[..^(password.EndsWith("\r\n", StringComparison.Ordinal) ? 2 : 1)];
        }

        return FromPassword(password, source);
    }

    /// <summary>A key file: its bytes are the secret.</summary>
    /// <exception cref="UsageException">The file cannot be read or is too short to be a key.</exception>
    public static RepositoryCredentials FromKeyFile(string path, string source)
    {
        var bytes = ReadFile(path, source, "key file");
        return bytes.Length < MinimumKeyFileSize
            ? throw new UsageException(
                $"the key file from {source} holds {bytes.Length} bytes, fewer than {MinimumKeyFileSize}: make one with 'head -c 32 /dev/urandom > FILE'")
            : new RepositoryCredentials(CredentialKind.KeyFile, bytes, source);
    }

    /// <summary>"the password from SOURCE" or "the key file from SOURCE".</summary>
    public override string ToString() => $"the {(Kind == CredentialKind.Password ? "password" : "key file")} from {Source}";

    private static byte[] ReadFile(string path, string source, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read the {what} from {source}: {e.Message}", e);
        }
    }
}
