using Baton.Testing;

namespace Baton.Storage.Sftp.Tests;

public sealed class SftpStoreConformanceTests(SshServer server) : ObjectStoreConformance, IClassFixture<SshServer>
{
    private string? _folder;

    protected override string? BackingFolder => _folder is null ? null : Path.Combine(server.Root, _folder);

    protected override Task<IObjectStore> CreateStoreAsync()
    {
        _folder = "conformance-" + Guid.NewGuid().ToString("N")[..8];
        return Task.FromResult<IObjectStore>(server.Store(_folder));
    }

    [Fact(Timeout = 60_000)]
    public async Task Writes_leave_no_temporary_files_behind()
    {
        var folder = "clean-" + Guid.NewGuid().ToString("N")[..8];
        await using var store = server.Store(folder);
        for (var i = 0; i < 10; i++)
        {
            await store.PutAsync($"k/{i}", new byte[] { (byte)i }, PutMode.CreateNew);
            await store.PutAsync($"k/{i}", new byte[] { (byte)i, 1 }, PutMode.Overwrite);
        }

        var files = Directory.EnumerateFiles(Path.Combine(server.Root, folder), "*", SearchOption.AllDirectories).ToList();
        Assert.Equal(10, files.Count);
        Assert.All(files, f => Assert.DoesNotContain(".tmp-", f, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_create_new_leaves_no_temporary_file()
    {
        var folder = "failed-" + Guid.NewGuid().ToString("N")[..8];
        await using var store = server.Store(folder);
        await store.PutAsync("once", new byte[] { 1 }, PutMode.CreateNew);
        await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("once", new byte[] { 2 }, PutMode.CreateNew));
        Assert.Single(Directory.EnumerateFiles(Path.Combine(server.Root, folder)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_login_relative_path_resolves_against_the_home_folder()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var relative = Path.GetRelativePath(home, Path.Combine(server.Root, "relative-" + Guid.NewGuid().ToString("N")[..8]));
        var address = SftpAddress.Parse(StoreUri.Parse($"sftp://{SshServer.User}@127.0.0.1:{server.Port}/~/{relative}"), SshServer.User);
        await using var store = new SftpStore(address, server.Settings());
        await store.PutAsync("x", new byte[] { 7 }, PutMode.CreateNew);
        Assert.Equal(new byte[] { 7 }, await File.ReadAllBytesAsync(Path.Combine(home, relative, "x")));
    }
}
