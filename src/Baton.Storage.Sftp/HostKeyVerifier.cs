namespace Baton.Storage.Sftp;

/// <summary>
/// Decides whether to trust a server's host key, as OpenSSH does with <c>StrictHostKeyChecking=yes</c>, or with
/// <c>accept-new</c> when <see cref="SftpSettings.AcceptNewHostKey"/> is set: a known key is trusted, an unknown host is
/// refused (or recorded on first contact), a changed or revoked key is always refused.
/// </summary>
internal sealed class HostKeyVerifier(SftpAddress address, SftpSettings settings)
{
    private IEnumerable<string> Files => settings.GlobalKnownHostsFiles.Prepend(settings.KnownHostsFile);

    /// <summary>The host keys on record for this server (read afresh on each call).</summary>
    public List<KnownHostKey> KnownKeys() => KnownHosts.Find(Files, address.Host, address.Port);

    /// <summary>Returns null when the key is trusted, or a one-line reason to refuse it.</summary>
    public string? Verify(byte[] keyBlob, string fingerprintSha256)
    {
        var name = KnownHosts.NameOf(address.Host, address.Port);
        var type = KnownHosts.KeyTypeOf(keyBlob);
        var shown = $"{type} SHA256:{fingerprintSha256.TrimEnd('=')}";
        var known = KnownKeys();
        if (known.Any(k => k.Revoked && k.KeyBlob.AsSpan().SequenceEqual(keyBlob)))
        {
            return $"the host key of {name} ({shown}) is marked @revoked in the known hosts: refusing to connect";
        }

        if (known.Any(k => !k.Revoked && k.KeyBlob.AsSpan().SequenceEqual(keyBlob)))
        {
            return null;
        }

        if (known.Any(k => !k.Revoked))
        {
            return $"the host key of {name} has CHANGED: {shown} is not the key recorded in {settings.KnownHostsFile}; " +
                   $"the connection may be intercepted, or the server was reinstalled: if you are sure, remove the old entry with ssh-keygen -R '{name}' and connect again";
        }

        if (!settings.AcceptNewHostKey)
        {
            return $"the host key of {name} ({shown}) is not in {settings.KnownHostsFile}: check the fingerprint with the server's owner, then add it " +
                   $"(ssh-keyscan -p {address.Port} {address.Host} >> {settings.KnownHostsFile}) or set {SftpSettings.AcceptNewHostKeyVariable}=1 to trust it on first contact and record it";
        }

        KnownHosts.Append(settings.KnownHostsFile, address.Host, address.Port, type, keyBlob);
        return null;
    }

    /// <summary>
    /// The host key algorithms worth negotiating: plain keys only (certificates are not checked), and, when the host is
    /// known, only the types on record, so that a server offering several key types is checked against the one we know.
    /// </summary>
    public bool KeepAlgorithm(string algorithm, IReadOnlySet<string> knownTypes)
    {
        if (algorithm.Contains("-cert-", StringComparison.Ordinal))
        {
            return false;
        }

        return knownTypes.Count == 0 || knownTypes.Contains(KeyTypeOfAlgorithm(algorithm));
    }

    private static string KeyTypeOfAlgorithm(string algorithm) =>
        algorithm is "rsa-sha2-256" or "rsa-sha2-512" ? "ssh-rsa" : algorithm;
}
