using Baton.Testing;

namespace Baton.Storage.Rclone.Tests;

public sealed class RcloneStoreConformanceTests(RcloneRemote remote) : ObjectStoreConformance, IClassFixture<RcloneRemote>
{
    private string? _folder;

    protected override string? BackingFolder => _folder is null ? null : Path.Combine(remote.Root, _folder);

    protected override Task<IObjectStore> CreateStoreAsync()
    {
        _folder = "conformance-" + Guid.NewGuid().ToString("N")[..8];
        return Task.FromResult<IObjectStore>(remote.Store(_folder));
    }

    [Fact]
    public void The_store_says_create_new_is_not_atomic()
    {
        Assert.False(remote.Store("caps").Capabilities.AtomicCreate);
    }

    [Fact(Timeout = 60_000)]
    public async Task Writes_leave_no_temporary_files_behind()
    {
        var folder = "clean-" + Guid.NewGuid().ToString("N")[..8];
        await using var store = remote.Store(folder);
        for (var i = 0; i < 3; i++)
        {
            await store.PutAsync($"k/{i}", new byte[] { (byte)i }, PutMode.CreateNew);
            await store.PutAsync($"k/{i}", new byte[] { (byte)i, 1 }, PutMode.Overwrite);
        }

        var files = Directory.EnumerateFiles(Path.Combine(remote.Root, folder), "*", SearchOption.AllDirectories).ToList();
        Assert.Equal(3, files.Count);
        Assert.All(files, f => Assert.DoesNotContain(".tmp-", f, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_remote_configured_only_through_environment_variables_works()
    {
        var environment = new Dictionary<string, string>
        {
            ["RCLONE_CONFIG"] = remote.Folder.Combine("absent.conf"),
            ["RCLONE_CONFIG_ENVREMOTE_TYPE"] = "local",
        };
        var address = RcloneAddress.Parse(StoreUri.Parse($"rclone:envremote:{remote.Root}/env"));
        await using var store = new RcloneStore(address, new RcloneSettings { Program = remote.Program, Environment = environment });
        await store.PutAsync("a/b", new byte[] { 1, 2, 3 }, PutMode.CreateNew);
        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(Path.Combine(remote.Root, "env", "a", "b")));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_remote_is_unreachable_and_says_to_run_rclone_config()
    {
        var address = RcloneAddress.Parse(StoreUri.Parse("rclone:nosuchremote:x"));
        await using var store = new RcloneStore(address, new RcloneSettings { Program = remote.Program, Environment = remote.Environment });
        var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("k"));
        Assert.Equal(StoreErrorReason.Unreachable, error.Reason);
        Assert.Contains("rclone config", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_rclone_program_is_unreachable_and_says_how_to_install_it()
    {
        var address = RcloneAddress.Parse(StoreUri.Parse("rclone:batontest:x"));
        await using var store = new RcloneStore(address, new RcloneSettings { Program = remote.Folder.Combine("no-rclone-here") });
        var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("k"));
        Assert.Equal(StoreErrorReason.Unreachable, error.Reason);
        Assert.Contains("install rclone", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Reading_part_of_an_object_and_stopping_early_ends_cleanly()
    {
        await using var store = remote.Store("early-" + Guid.NewGuid().ToString("N")[..8]);
        await store.PutAsync("big", Bytes(5_000_000, 3), PutMode.Overwrite);
        await using (var stream = await store.OpenReadAsync("big"))
        {
            var buffer = new byte[1000];
            await stream.ReadExactlyAsync(buffer);
            Assert.Equal(Bytes(5_000_000, 3).AsSpan(0, 1000).ToArray(), buffer);
        }

        Assert.Equal(5_000_000, (await store.StatAsync("big"))?.Size);
    }
}
