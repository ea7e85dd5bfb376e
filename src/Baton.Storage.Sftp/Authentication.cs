using Renci.SshNet;
using Renci.SshNet.Common;

namespace Baton.Storage.Sftp;

/// <summary>Builds the SSH authentication methods from the key files and password in <see cref="SftpSettings"/>.</summary>
internal static class Authentication
{
    /// <summary>The methods to offer, and a description of the keys tried for messages (paths only, never secrets).</summary>
    public static (AuthenticationMethod[] Methods, string KeysTried) Methods(string user, SftpSettings settings, string location)
    {
        var keys = new List<IPrivateKeySource>();
        var names = new List<string>();
        string? encryptedWithoutPassphrase = null;
        foreach (var file in settings.KeyFiles)
        {
            if (!File.Exists(file))
            {
                if (settings.KeyFileGiven)
                {
                    throw new StoreException(StoreErrorReason.Unauthorized, location, null,
                        $"the SSH key file {file} named by {SftpSettings.KeyFileVariable} does not exist");
                }

                continue;
            }

            try
            {
                keys.Add(settings.Passphrase is null ? new PrivateKeyFile(file) : new PrivateKeyFile(file, settings.Passphrase));
                names.Add(file);
            }
            catch (SshPassPhraseNullOrEmptyException)
            {
                encryptedWithoutPassphrase ??= file;
            }
            catch (Exception e) when (e is SshException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException or FormatException)
            {
                // The message says why the key is unusable (wrong passphrase, unknown format) without showing it.
                throw new StoreException(StoreErrorReason.Unauthorized, location, null,
                    $"cannot load the SSH key {file}: {e.GetType().Name}; check the file{(settings.Passphrase is null ? "" : $" and {SftpSettings.PassphraseVariable}")}", e);
            }
        }

        var methods = new List<AuthenticationMethod>();
        if (keys.Count > 0)
        {
            methods.Add(new PrivateKeyAuthenticationMethod(user, [.. keys]));
        }

        if (settings.Password is not null)
        {
            methods.Add(new PasswordAuthenticationMethod(user, settings.Password));
            names.Add($"the password in {SftpSettings.PasswordVariable}");
        }

        if (methods.Count == 0)
        {
            throw new StoreException(StoreErrorReason.Unauthorized, location, null, encryptedWithoutPassphrase is not null
                ? $"the SSH key {encryptedWithoutPassphrase} is protected by a passphrase: set {SftpSettings.PassphraseVariable}"
                : $"no SSH key found for {location}: put one in ~/.ssh (id_ed25519, id_ecdsa or id_rsa) or set {SftpSettings.KeyFileVariable}");
        }

        return ([.. methods], string.Join(", ", names));
    }
}
