using System.Security.Cryptography;
using System.Text;

namespace Baton.Storage.Sftp;

/// <summary>One known_hosts line that names a host: its key, and whether the key is marked <c>@revoked</c>.</summary>
internal sealed record KnownHostKey(string KeyType, byte[] KeyBlob, bool Revoked);

/// <summary>
/// Reads and appends OpenSSH known_hosts files: plain and hashed (<c>|1|salt|hash</c>) host names, patterns with
/// <c>*</c>, <c>?</c> and <c>!</c>, <c>[host]:port</c> for other ports, and the <c>@revoked</c> marker.
/// <c>@cert-authority</c> lines are ignored: the store checks plain host keys only.
/// </summary>
internal static class KnownHosts
{
    /// <summary>The name OpenSSH records a host under: <c>host</c> on port 22, <c>[host]:port</c> otherwise.</summary>
    public static string NameOf(string host, int port) =>
        port == SftpAddress.DefaultPort ? host.ToLowerInvariant() : $"[{host.ToLowerInvariant()}]:{port}";

    /// <summary>The keys the files hold for a host. Missing files hold none.</summary>
    public static List<KnownHostKey> Find(IEnumerable<string> files, string host, int port)
    {
        var name = NameOf(host, port);
        var found = new List<KnownHostKey>();
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file))
            {
                if (Parse(line) is { } entry && entry.Marker != "@cert-authority" && Matches(entry.Hosts, name))
                {
                    found.Add(new KnownHostKey(entry.KeyType, entry.KeyBlob, entry.Marker == "@revoked"));
                }
            }
        }

        return found;
    }

    /// <summary>Appends a plain entry for a host, creating the file (mode 600) and its folder (mode 700) when missing.</summary>
    public static void Append(string file, string host, int port, string keyType, byte[] keyBlob)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var line = $"{NameOf(host, port)} {keyType} {Convert.ToBase64String(keyBlob)}\n";
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(file, options);
        // A file that does not end in a newline would glue the new entry onto its last line.
        var prefix = stream.Position > 0 && !EndsWithNewline(file) ? "\n" : "";
        var bytes = Encoding.UTF8.GetBytes(prefix + line);
        stream.Write(bytes);
    }

    /// <summary>The key type written inside an SSH public key blob (its first string).</summary>
    public static string KeyTypeOf(byte[] keyBlob)
    {
        if (keyBlob.Length < 4)
        {
            return "";
        }

        var length = (keyBlob[0] << 24) | (keyBlob[1] << 16) | (keyBlob[2] << 8) | keyBlob[3];
        return length > 0 && length <= keyBlob.Length - 4 ? Encoding.ASCII.GetString(keyBlob, 4, length) : "";
    }

    /// <summary>Whether a comma-separated host pattern list matches a host name, as OpenSSH's match_hostname does.</summary>
    public static bool Matches(string patterns, string name)
    {
        var matched = false;
        foreach (var raw in patterns.Split(','))
        {
            var pattern = raw.Trim();
            if (pattern.StartsWith("|1|", StringComparison.Ordinal))
            {
                matched |= HashedMatches(pattern, name);
                continue;
            }

            var negated = pattern.StartsWith('!');
            if (negated)
            {
                pattern = pattern[1..];
            }

            if (Glob(pattern.ToLowerInvariant(), name))
            {
                if (negated)
                {
                    return false;
                }

                matched = true;
            }
        }

        return matched;
    }

    private static (string? Marker, string Hosts, string KeyType, byte[] KeyBlob)? Parse(string line)
    {
        var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 0 || fields[0].StartsWith('#'))
        {
            return null;
        }

        string? marker = null;
        if (fields[0].StartsWith('@'))
        {
            marker = fields[0];
            fields = fields[1..];
        }

        if (fields.Length < 3)
        {
            return null;
        }

        try
        {
            return (marker, fields[0], fields[1], Convert.FromBase64String(fields[2]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    private static bool HashedMatches(string pattern, string name)
    {
        var parts = pattern.Split('|');
        if (parts.Length != 4)
        {
            return false;
        }

        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var expected = Convert.FromBase64String(parts[3]);
#pragma warning disable CA5350 // HMAC-SHA1 is what OpenSSH's hashed known_hosts format uses.
            var actual = HMACSHA1.HashData(salt, Encoding.UTF8.GetBytes(name));
#pragma warning restore CA5350
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool Glob(string pattern, string text)
    {
        // Iterative wildcard match with backtracking to the last '*'.
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool EndsWithNewline(string file)
    {
        using var read = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (read.Length == 0)
        {
            return true;
        }

        read.Seek(-1, SeekOrigin.End);
        return read.ReadByte() == '\n';
    }
}
