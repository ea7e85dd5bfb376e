using System.Text.RegularExpressions;

namespace Baton.Storage.Rclone;

/// <summary>Reads rclone's exit code and error lines into a <see cref="StoreException"/> with the right reason.</summary>
internal static partial class RcloneErrors
{
    // rclone's documented exit codes.
    private const int DirectoryNotFound = 3;
    private const int FileNotFound = 4;
    private const int TemporaryError = 5;

    /// <summary>Whether a failed command failed only because the object or its folder does not exist.</summary>
    public static bool IsNotFound(RcloneResult result) =>
        result.ExitCode is DirectoryNotFound or FileNotFound
        || result.Errors.Contains("doesn't exist", StringComparison.Ordinal)
        || result.Errors.Contains("object not found", StringComparison.Ordinal)
        || result.Errors.Contains("directory not found", StringComparison.Ordinal);

    /// <summary>Classifies a failed command.</summary>
    public static StoreException Classify(RcloneResult result, RcloneAddress address, string? key, string operation)
    {
        // Match on rclone's words only: paths and keys (which hold digits and names of their own) are taken out first.
        var errors = Without(Without(result.Errors, key is null ? null : address.PathOf(key)), address.Root);
        var line = LastLine(address.Redact(result.Errors));
        var what = key is null ? address.Display : $"'{key}' in {address.Display}";
        var (reason, message) = errors switch
        {
            _ when Has(errors, "didn't find section in config file", "not found in config file", "config file not found") =>
                (StoreErrorReason.Unreachable, $"rclone has no remote for {address.Display}: create it with 'rclone config' (see the README) or check RCLONE_CONFIG"),
            _ when IsNotFound(result) => (StoreErrorReason.NotFound, $"cannot {operation} {what}: not found"),
            _ when Has(errors, "invalid_grant", "token expired", "couldn't fetch token", "unauthorized", "unauthenticated", "forbidden",
                    "access denied", "accessdenied", "permission denied", "insufficient permission", "invalid credentials", "signaturedoesnotmatch") =>
                (StoreErrorReason.Unauthorized, $"rclone was refused access to {address.Display}: {line}; check the remote's credentials (rclone config reconnect REMOTE: renews a login)"),
            _ when Has(errors, "quota", "no space left", "insufficient storage", "insufficientstorage", "storage limit") =>
                (StoreErrorReason.Full, $"cannot {operation} {what}: the remote is full or over quota ({line})"),
            _ when Has(errors, "no such host", "connection refused", "network is unreachable", "no route to host") =>
                (StoreErrorReason.Unreachable, $"rclone cannot reach {address.Display}: {line}; check the network and the remote's settings"),
            _ when result.ExitCode == TemporaryError || Has(errors, "timeout", "connection reset", "unexpected eof", "rate limit", "ratelimit", "too many requests",
                    "internal server error", "bad gateway", "service unavailable", "gateway timeout", "try again") =>
                (StoreErrorReason.Transient, $"cannot {operation} {what}: {line}"),
            _ => (StoreErrorReason.Permanent, $"cannot {operation} {what}: rclone exited with {result.ExitCode}: {line}"),
        };
        return new StoreException(reason, address.Display, key, message);
    }

    private static string Without(string text, string? part) =>
        string.IsNullOrEmpty(part) ? text : text.Replace(part, "", StringComparison.Ordinal);

    private static bool Has(string text, params string[] needles) =>
        needles.Any(n => text.Contains(n, StringComparison.OrdinalIgnoreCase));

    // The last non-empty line, without rclone's "2024/01/02 03:04:05 ERROR : " prefix, tokens hidden, kept short.
    private static string LastLine(string errors)
    {
        var line = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no error output";
        line = LogPrefix().Replace(line, "");
        line = Secrets().Replace(line, "$1***");
        return line.Length > 300 ? line[..300] + "..." : line;
    }

    [GeneratedRegex(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*:\s*)?")]
    private static partial Regex LogPrefix();

    [GeneratedRegex(@"(?i)((?:access_token|refresh_token|token|key|secret|password|pass|sig|signature)[""']?\s*[=:]\s*[""']?)[^\s""'&,}]+")]
    private static partial Regex Secrets();
}
