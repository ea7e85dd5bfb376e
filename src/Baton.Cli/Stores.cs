using Baton.Storage;
using Baton.Storage.Azure;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Storage.S3;
using Baton.Storage.Rclone;
using Baton.Storage.Sftp;

namespace Baton.Cli;

/// <summary>The stores this build of the command line can open. A new store is one line here.</summary>
internal static class Stores
{
    public static StoreRegistry Registry { get; } = new StoreRegistry()
        .Register(new FolderStoreProvider())
        .Register(new S3StoreProvider(name => CliContext.Current.GetEnvironmentVariable(name)))
        .Register(new AzureBlobStoreProvider(name => CliContext.Current.GetEnvironmentVariable(name)))
        .Register(new SftpStoreProvider())
        .Register(new RcloneStoreProvider());

    /// <summary>Opens a store with the standard decorators: retries with backoff, and the store's concurrency limit.</summary>
    public static IObjectStore Open(string address) => StoreStack.Wrap(Registry.Open(address));

    /// <summary>Opens a store with retries but no concurrency limit, for probes that race writers on purpose.</summary>
    public static IObjectStore OpenUnlimited(string address) =>
        StoreStack.Wrap(Registry.Open(address), StoreStackOptions.Default with { MaxConcurrency = 0 });
}
