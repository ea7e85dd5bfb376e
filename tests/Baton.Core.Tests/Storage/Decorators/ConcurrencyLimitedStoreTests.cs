using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Storage.Decorators;

public sealed class ConcurrencyLimitedStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 30_000)]
    public async Task No_more_operations_than_the_limit_reach_the_store_at_once()
    {
        var running = 0;
        var most = 0;
        var inner = new ScriptedStore(new FolderStore(_temp.Combine("s")))
        {
            Before = async (_, _) =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref most, now);
                await Task.Delay(20);
                Interlocked.Decrement(ref running);
            },
        };
        await using var store = new ConcurrencyLimitedStore(inner, 3);

        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => store.PutAsync($"k{i}", new byte[] { 1 }, PutMode.Overwrite)));

        Assert.Equal(3, most);
        Assert.Equal(0, store.InUse);
        Assert.Equal(Math.Min(3, inner.Capabilities.Concurrency), store.Capabilities.Concurrency);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_open_read_stream_holds_its_slot_until_it_is_disposed()
    {
        var folder = new FolderStore(_temp.Combine("r"));
        await folder.PutAsync("a", new byte[] { 1 }, PutMode.Overwrite);
        await using var store = new ConcurrencyLimitedStore(folder, 1);

        var first = await store.OpenReadAsync("a");
        var second = store.OpenReadAsync("a");
        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        await first.DisposeAsync();
        await using var stream = await second;
        Assert.Equal(1, store.InUse);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failed_open_gives_its_slot_back()
    {
        await using var store = new ConcurrencyLimitedStore(new FolderStore(_temp.Combine("f")), 1);
        await Assert.ThrowsAsync<StoreException>(() => store.OpenReadAsync("missing"));
        Assert.Equal(0, store.InUse);
    }

    public void Dispose() => _temp.Dispose();

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
