using System.CommandLine;
using Baton.Cli.Configuration;
using Baton.Encryption;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Cli;

/// <summary>
/// How a command opens a repository, with the credentials of an encrypted one: <c>--password-file FILE</c> or
/// <c>--key-file FILE</c>, else <c>BATON_PASSWORD</c>, else <c>password_file</c> or <c>key_file</c> in baton.toml.
/// A secret is never a flag's value, so it never shows in a process listing or a shell history.
/// </summary>
internal sealed class RepositoryAccess
{
    public const string PasswordVariable = "BATON_PASSWORD";

    private readonly Option<string?> _passwordFile = new("--password-file")
    {
        Description = $"File holding the password of an encrypted repository (or set {PasswordVariable}); given to init or to a push into an empty store, it creates an encrypted repository",
        HelpName = "FILE",
    };

    private readonly Option<string?> _keyFile = new("--key-file")
    {
        Description = "Key file of an encrypted repository (at least 32 random bytes), instead of a password",
        HelpName = "FILE",
    };

    /// <summary>Adds the credential options to <paramref name="command"/>.</summary>
    public RepositoryAccess(Command command)
    {
        command.Options.Add(_passwordFile);
        command.Options.Add(_keyFile);
    }

    public Task<Repository> OpenAsync(ParseResult result, IObjectStore store, CancellationToken cancellationToken) =>
        Repository.OpenAsync(store, Options(result), cancellationToken);

    public Task<Repository> OpenOrInitAsync(ParseResult result, IObjectStore store, CancellationToken cancellationToken) =>
        Repository.OpenOrInitAsync(store, Options(result), cancellationToken);

    public Task<Repository> InitAsync(ParseResult result, IObjectStore store, CancellationToken cancellationToken) =>
        Repository.InitAsync(store, Options(result), cancellationToken);

    /// <summary>Repository options carrying the credentials the user gave, if any.</summary>
    public RepositoryOptions Options(ParseResult result) => new() { Credentials = Credentials(result) };

    /// <summary>The credentials the user gave: flags, then the environment, then baton.toml.</summary>
    /// <exception cref="UsageException">Both a password file and a key file were given, or one cannot be read.</exception>
    public RepositoryCredentials? Credentials(ParseResult result)
    {
        var passwordFile = result.GetValue(_passwordFile);
        var keyFile = result.GetValue(_keyFile);
        if (passwordFile is not null && keyFile is not null)
        {
            throw new UsageException("give either --password-file or --key-file, not both");
        }

        if (passwordFile is not null)
        {
            return RepositoryCredentials.FromPasswordFile(passwordFile, $"--password-file {passwordFile}");
        }

        if (keyFile is not null)
        {
            return RepositoryCredentials.FromKeyFile(keyFile, $"--key-file {keyFile}");
        }

        if (CliContext.Current.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } password)
        {
            return RepositoryCredentials.FromPassword(password, PasswordVariable);
        }

        var file = ConfigFile.Current;
        if (file.PasswordFile is not null && file.KeyFile is not null)
        {
            throw new UsageException($"{file.Path}: give either password_file or key_file, not both");
        }

        return file.PasswordFile is { } fromFile ? RepositoryCredentials.FromPasswordFile(fromFile, $"password_file in {ConfigFile.FileName}")
            : file.KeyFile is { } keyFromFile ? RepositoryCredentials.FromKeyFile(keyFromFile, $"key_file in {ConfigFile.FileName}")
            : null;
    }
}
