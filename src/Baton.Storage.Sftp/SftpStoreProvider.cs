namespace Baton.Storage.Sftp;

/// <summary>Opens SFTP stores for <c>sftp://USER@HOST[:PORT]/PATH</c>, with settings from the environment and <c>~/.ssh</c>.</summary>
public sealed class SftpStoreProvider : IStoreProvider
{
    /// <inheritdoc />
    public IReadOnlyList<string> Schemes { get; } = ["sftp"];

    /// <inheritdoc />
    public IReadOnlyList<string> AddressForms { get; } = ["sftp://USER@HOST[:PORT]/PATH"];

    /// <inheritdoc />
    public IObjectStore Create(StoreUri uri) => new SftpStore(SftpAddress.Parse(uri, Environment.UserName), SftpSettings.FromEnvironment());
}
