using System.Text.RegularExpressions;

namespace Baton.Storage;

/// <summary>
/// A parsed store address: <c>/path</c>, <c>file:///path</c>, <c>s3://bucket/prefix</c>, <c>rclone:remote:path</c>, ...
/// </summary>
public sealed partial record StoreUri
{
    private StoreUri(string scheme, string body, string original)
    {
        Scheme = scheme;
        Body = body;
        Original = original;
    }

    /// <summary>Lower-case scheme; <c>file</c> for plain paths.</summary>
    public string Scheme { get; }

    /// <summary>Everything after <c>scheme:</c> (for plain paths, the path itself).</summary>
    public string Body { get; }

    /// <summary>The text as given. May hold credentials: show <see cref="Redacted"/> instead.</summary>
    public string Original { get; }

    /// <summary>The address with any user-info password removed, safe for messages.</summary>
    public string Redacted => UserInfoPassword().Replace(Original, "$1:***@");

    /// <summary>Parses a store address. A plain path (absolute or relative) is a folder store.</summary>
    /// <exception cref="UsageException">The text is empty.</exception>
    public static StoreUri Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new UsageException("the store address is empty: pass --store PATH_OR_URI or set BATON_STORE");
        }

        var match = SchemePrefix().Match(text);
        if (!match.Success)
        {
            return new StoreUri("file", text, text);
        }

        var scheme = match.Groups[1].Value.ToLowerInvariant();
        return new StoreUri(scheme, text[match.Length..], text);
    }

    /// <inheritdoc />
    public override string ToString() => Redacted;

    // Two or more letters, so that a Windows drive letter is not taken for a scheme.
    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]+):")]
    private static partial Regex SchemePrefix();

    [GeneratedRegex("^([a-zA-Z][a-zA-Z0-9+.-]*://[^/:@]+):[^/@]*@")]
    private static partial Regex UserInfoPassword();
}
