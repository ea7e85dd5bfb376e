using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Storage.Rclone;
using Baton.Storage.Sftp;

namespace Baton.Cli;

/// <summary>The stores this build of the command line can open. A new store is one line here.</summary>
internal static class Stores
{
    public static StoreRegistry Registry { get; } = new StoreRegistry()
        .Register(new FolderStoreProvider())
        .Register(new SftpStoreProvider())
        .Register(new RcloneStoreProvider());

    public static IObjectStore Open(string address) => Registry.Open(address);
}
