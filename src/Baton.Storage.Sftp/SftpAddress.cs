namespace Baton.Storage.Sftp;

/// <summary>
/// A parsed <c>sftp://[USER@]HOST[:PORT]/PATH</c> address. The path is absolute on the server, as with curl;
/// <c>/~/dir</c> is relative to the login directory.
/// </summary>
public sealed record SftpAddress(string User, string Host, int Port, string Path)
{
    /// <summary>The default SSH port.</summary>
    public const int DefaultPort = 22;

    /// <summary>The address for messages (never holds a password: one in the address is refused).</summary>
    public string Display => $"sftp://{User}@{Host}{(Port == DefaultPort ? "" : $":{Port}")}/{Path.TrimStart('/')}";

    /// <summary>Parses the body of an <c>sftp:</c> store address.</summary>
    /// <exception cref="UsageException">The address is malformed or holds a password.</exception>
    public static SftpAddress Parse(StoreUri uri, string defaultUser)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var body = uri.Body;
        if (!body.StartsWith("//", StringComparison.Ordinal))
        {
            throw Malformed(uri);
        }

        var rest = body[2..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? "" : Uri.UnescapeDataString(rest[slash..]);

        var user = defaultUser;
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            user = Uri.UnescapeDataString(authority[..at]);
            authority = authority[(at + 1)..];
            if (user.Contains(':', StringComparison.Ordinal))
            {
                throw new UsageException($"the address '{uri.Redacted}' holds a password: remove it and set BATON_SFTP_PASSWORD, or better, use an SSH key");
            }
        }

        var (host, port) = SplitPort(authority, uri);
        if (host.Length == 0 || user.Length == 0)
        {
            throw Malformed(uri);
        }

        // "/~/dir" and "/~" name the login directory; SFTP resolves relative paths against it.
        if (path == "/~" || path.StartsWith("/~/", StringComparison.Ordinal))
        {
            path = path.Length > 3 ? path[3..] : "";
        }

        // "sftp://host/" is the server's root folder, not the login folder.
        return new SftpAddress(user, host, port, path.Length > 1 ? path.TrimEnd('/') : path);
    }

    private static (string Host, int Port) SplitPort(string authority, StoreUri uri)
    {
        // IPv6 literals come in brackets: [::1]:2222.
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Malformed(uri);
            }

            var host = authority[1..close];
            var tail = authority[(close + 1)..];
            return tail.Length == 0 ? (host, DefaultPort) : tail[0] == ':' ? (host, ParsePort(tail[1..], uri)) : throw Malformed(uri);
        }

        var colon = authority.LastIndexOf(':');
        return colon < 0 ? (authority, DefaultPort) : (authority[..colon], ParsePort(authority[(colon + 1)..], uri));
    }

    private static int ParsePort(string text, StoreUri uri) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new UsageException($"bad port '{text}' in '{uri.Redacted}': use sftp://USER@HOST:PORT/PATH");

    private static UsageException Malformed(StoreUri uri) =>
        new($"malformed SFTP address '{uri.Redacted}': use sftp://USER@HOST[:PORT]/PATH");
}
