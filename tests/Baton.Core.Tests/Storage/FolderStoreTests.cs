using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Storage;

public sealed class FolderStoreTests : ObjectStoreConformance, IDisposable
{
    private readonly TempDirectory _temp = new();

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult<IObjectStore>(new FolderStore(_temp.Combine("store-" + Guid.NewGuid().ToString("N")[..8])));

    [Fact(Timeout = 30_000)]
    public async Task A_missing_parent_folder_is_reported_as_unreachable()
    {
        await using var store = new FolderStore(_temp.Combine("not-mounted", "drive", "runs"));
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("config", new byte[] { 1 }, PutMode.CreateNew));
        Assert.Equal(StoreErrorReason.Unreachable, error.Reason);
        Assert.False(Directory.Exists(_temp.Combine("not-mounted")));
    }

    [Fact(Timeout = 30_000)]
    public async Task Writes_leave_no_temporary_files_behind()
    {
        var root = _temp.Combine("clean");
        await using var store = new FolderStore(root);
        for (var i = 0; i < 20; i++)
        {
            await store.PutAsync($"k/{i}", new byte[] { (byte)i }, PutMode.CreateNew);
        }

        Assert.All(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories), f => Assert.DoesNotContain(".tmp-", f, StringComparison.Ordinal));
    }

    public void Dispose() => _temp.Dispose();
}
