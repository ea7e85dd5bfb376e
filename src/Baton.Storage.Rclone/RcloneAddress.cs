namespace Baton.Storage.Rclone;

/// <summary>
/// A parsed <c>rclone:REMOTE:PATH</c> address: a remote from the user's rclone config (<c>gdrive:baton/runs</c>), an
/// on-the-fly backend (<c>:local:/data</c>) or a connection string (<c>:s3,provider=AWS,...:bucket</c>), whose
/// parameters may hold keys and are never shown.
/// </summary>
public sealed record RcloneAddress
{
    private readonly string _shownRoot;

    private RcloneAddress(string root)
    {
        Root = root;
        _shownRoot = Hide(root);
    }

    /// <summary>The rclone path of the store's root, as rclone takes it on its command line (may hold secrets).</summary>
    public string Root { get; }

    /// <summary>The address for messages, with connection-string parameters hidden.</summary>
    public string Display => "rclone:" + _shownRoot;

    /// <summary>Parses the body of an <c>rclone:</c> store address.</summary>
    /// <exception cref="UsageException">The address names no remote.</exception>
    public static RcloneAddress Parse(StoreUri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var body = uri.Body;
        var remoteEnd = body.StartsWith(':') ? body.IndexOf(':', 1) : body.IndexOf(':', StringComparison.Ordinal);
        if (remoteEnd <= 0)
        {
            throw new UsageException($"malformed rclone address 'rclone:{Hide(body)}': use rclone:REMOTE:PATH with a remote from 'rclone config' (e.g. rclone:gdrive:baton)");
        }

        // "gdrive:" is the remote's root; "gdrive:dir/" is "gdrive:dir".
        var root = body.Length > remoteEnd + 1 ? body.TrimEnd('/') : body;
        return new RcloneAddress(root.Length <= remoteEnd ? body[..(remoteEnd + 1)] : root);
    }

    /// <summary>The rclone path of an object under the root.</summary>
    public string PathOf(string key) => Root.EndsWith(':') ? Root + key : Root + "/" + key;

    /// <summary>Replaces the raw root (which may hold secrets) by its shown form in text from rclone.</summary>
    public string Redact(string text) => ReferenceEquals(Root, _shownRoot) || Root == _shownRoot ? text : text.Replace(Root, _shownRoot, StringComparison.Ordinal);

    // ":s3,access_key_id=...,secret_access_key=...:bucket/dir" is shown as ":s3,***:bucket/dir".
    private static string Hide(string root)
    {
        var comma = root.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            return root;
        }

        var lastColon = root.LastIndexOf(':');
        return root[..comma] + ",***:" + (lastColon > comma ? root[(lastColon + 1)..] : "");
    }
}
