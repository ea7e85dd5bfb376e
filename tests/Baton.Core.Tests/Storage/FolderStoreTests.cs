using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Storage;

public sealed class FolderStoreTests : ObjectStoreConformance, IDisposable
{
    private readonly TempDirectory _temp = new();

    private string? _root;

    protected override string? BackingFolder => _root;

    protected override Task<IObjectStore> CreateStoreAsync()
    {
        _root = _temp.Combine("store-" + Guid.NewGuid().ToString("N")[..8]);
        return Task.FromResult<IObjectStore>(new FolderStore(_root));
    }

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

    [Theory(Timeout = 60_000)]
    [InlineData(1 << 20)] // exactly the size from which objects go unbuffered
    [InlineData((9 << 20) + 4095)] // several bounce buffers and a padded last block
    [InlineData(3 << 20)]
    public async Task Large_objects_come_back_bit_exact_whole_and_in_unaligned_ranges(int size)
    {
        var root = _temp.Combine("large-" + size);
        await using var store = new FolderStore(root);
        var data = Bytes(size, seed: size);
        await store.PutAsync("packs/ab/large", data, PutMode.CreateNew);

        Assert.Equal(size, new FileInfo(Path.Combine(root, "packs", "ab", "large")).Length);
        Assert.Equal(data, await store.ReadAllAsync("packs/ab/large"));
        foreach (var (offset, length) in new[] { (0L, 300_000), (4095L, size / 2), (size - 700_000L, 700_000), (12_345L, size - 12_345) })
        {
            await using var stream = await store.OpenReadAsync("packs/ab/large", offset, length);
            var buffer = new byte[length];
            Assert.Equal(length, await stream.ReadAtLeastAsync(buffer, length, throwOnEndOfStream: false));
            Assert.True(data.AsSpan((int)offset, length).SequenceEqual(buffer), $"range {offset}+{length}");
            Assert.Equal(0, await stream.ReadAsync(new byte[1]));
        }

        Assert.All(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories), f => Assert.DoesNotContain(".tmp-", f, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_range_read_past_the_end_of_a_large_object_stops_at_its_end()
    {
        await using var store = new FolderStore(_temp.Combine("short"));
        var data = Bytes((2 << 20) + 10, seed: 7);
        await store.PutAsync("packs/cd/short", data, PutMode.Overwrite);

        await using var stream = await store.OpenReadAsync("packs/cd/short", data.Length - 1000, 1 << 20);
        var buffer = new byte[1 << 20];
        Assert.Equal(1000, await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false));
        Assert.True(data.AsSpan(data.Length - 1000).SequenceEqual(buffer.AsSpan(0, 1000)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_large_object_overwritten_reads_back_as_the_new_bytes()
    {
        await using var store = new FolderStore(_temp.Combine("overwrite"));
        await store.PutAsync("packs/ef/pack", Bytes(3 << 20, seed: 1), PutMode.Overwrite);
        var second = Bytes((2 << 20) + 1, seed: 2);
        await store.PutAsync("packs/ef/pack", second, PutMode.Overwrite);

        Assert.Equal(second, await store.ReadAllAsync("packs/ef/pack"));
        await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("packs/ef/pack", second, PutMode.CreateNew));
    }

    public void Dispose() => _temp.Dispose();
}
