namespace Baton.Storage.Sftp;

/// <summary>
/// How the SFTP store authenticates and checks the server, following OpenSSH's conventions. Read from the environment
/// by <see cref="FromEnvironment"/>; tests and library users may build one directly. A class rather than a record so
/// that no generated ToString ever prints the passphrase or password.
/// </summary>
public sealed class SftpSettings
{
    /// <summary>Environment variable naming a private key file to use instead of the keys in <c>~/.ssh</c>.</summary>
    public const string KeyFileVariable = "BATON_SFTP_KEY_FILE";

    /// <summary>Environment variable holding the passphrase of an encrypted private key.</summary>
    public const string PassphraseVariable = "BATON_SFTP_KEY_PASSPHRASE";

    /// <summary>Environment variable holding a password, for servers that allow password logins.</summary>
    public const string PasswordVariable = "BATON_SFTP_PASSWORD";

    /// <summary>Environment variable naming the known_hosts file (default <c>~/.ssh/known_hosts</c>).</summary>
    public const string KnownHostsVariable = "BATON_SFTP_KNOWN_HOSTS";

    /// <summary>Environment variable that, set to 1, trusts an unknown host key on first contact and records it.</summary>
    public const string AcceptNewHostKeyVariable = "BATON_SFTP_ACCEPT_NEW_HOST_KEY";

    /// <summary>The private key files to offer, in order. Missing files are skipped.</summary>
    public IReadOnlyList<string> KeyFiles { get; init; } = [];

    /// <summary>Whether <see cref="KeyFiles"/> was named explicitly (a missing explicit key is an error).</summary>
    public bool KeyFileGiven { get; init; }

    /// <summary>The passphrase of encrypted keys, if any. Never shown.</summary>
    public string? Passphrase { get; init; }

    /// <summary>A password for password logins, if any. Never shown.</summary>
    public string? Password { get; init; }

    /// <summary>The user's known_hosts file; an accepted new host key is appended here.</summary>
    public required string KnownHostsFile { get; init; }

    /// <summary>Read-only system-wide known hosts, as OpenSSH reads <c>/etc/ssh/ssh_known_hosts</c>.</summary>
    public IReadOnlyList<string> GlobalKnownHostsFiles { get; init; } = [];

    /// <summary>Trust and record a host key the first time a host is seen (OpenSSH's <c>accept-new</c>). A changed key is always refused.</summary>
    public bool AcceptNewHostKey { get; init; }

    /// <summary>How long to wait for the TCP connection and the SSH handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Reads the settings from environment variables and <c>~/.ssh</c>.</summary>
    public static SftpSettings FromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var ssh = Path.Combine(home, ".ssh");
        var keyFile = NonEmpty(environment(KeyFileVariable));
        return new SftpSettings
        {
            KeyFiles = keyFile is not null
                ? [ExpandHome(keyFile, home)]
                : [Path.Combine(ssh, "id_ed25519"), Path.Combine(ssh, "id_ecdsa"), Path.Combine(ssh, "id_rsa")],
            KeyFileGiven = keyFile is not null,
            Passphrase = NonEmpty(environment(PassphraseVariable)),
            Password = NonEmpty(environment(PasswordVariable)),
            KnownHostsFile = ExpandHome(NonEmpty(environment(KnownHostsVariable)) ?? Path.Combine(ssh, "known_hosts"), home),
            GlobalKnownHostsFiles = ["/etc/ssh/ssh_known_hosts"],
            AcceptNewHostKey = environment(AcceptNewHostKeyVariable) is "1" or "true" or "yes",
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string ExpandHome(string path, string home) =>
        path == "~" ? home : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, path[2..]) : path;
}
