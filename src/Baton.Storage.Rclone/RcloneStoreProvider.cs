namespace Baton.Storage.Rclone;

/// <summary>Opens rclone stores for <c>rclone:REMOTE:PATH</c>, using the user's own rclone config.</summary>
public sealed class RcloneStoreProvider : IStoreProvider
{
    /// <inheritdoc />
    public IReadOnlyList<string> Schemes { get; } = ["rclone"];

    /// <inheritdoc />
    public IReadOnlyList<string> AddressForms { get; } = ["rclone:REMOTE:PATH"];

    /// <inheritdoc />
    public IObjectStore Create(StoreUri uri) => new RcloneStore(RcloneAddress.Parse(uri), RcloneSettings.FromEnvironment());
}
