using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Storage.Decorators;

public sealed class FaultInjectingStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 30_000)]
    public async Task The_same_seed_injects_the_same_faults()
    {
        Assert.Equal(await OutcomesAsync(seed: 42), await OutcomesAsync(seed: 42));
        Assert.NotEqual(await OutcomesAsync(seed: 42), await OutcomesAsync(seed: 43));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_lost_response_reports_a_failure_although_the_write_took_effect()
    {
        var folder = new FolderStore(_temp.Combine("lost"));
        await using var store = new FaultInjectingStore(folder, new FaultOptions { LostResponseRate = 1 });

        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("k", new byte[] { 9 }, PutMode.CreateNew));
        Assert.Equal(StoreErrorReason.Transient, error.Reason);
        Assert.Equal(new byte[] { 9 }, await folder.ReadAllAsync("k"));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failed_request_does_nothing_and_carries_the_configured_reason()
    {
        var folder = new FolderStore(_temp.Combine("fail"));
        await using var store = new FaultInjectingStore(folder, new FaultOptions { FailRate = 1, Reason = StoreErrorReason.Unreachable });

        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("k", new byte[] { 9 }, PutMode.CreateNew));
        Assert.Equal(StoreErrorReason.Unreachable, error.Reason);
        Assert.Null(await folder.StatAsync("k"));
        Assert.Equal(1, store.Injected);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_truncated_read_delivers_a_prefix_and_then_breaks_like_a_dropped_connection()
    {
        var folder = new FolderStore(_temp.Combine("trunc"));
        var data = new byte[100_000];
        new Random(1).NextBytes(data);
        await folder.PutAsync("k", data, PutMode.Overwrite);
        await using var store = new FaultInjectingStore(folder, new FaultOptions { TruncatedReadRate = 1, Seed = 1 });

        await using var stream = await store.OpenReadAsync("k", 0, data.Length);
        using var copy = new MemoryStream();
        await Assert.ThrowsAsync<IOException>(() => stream.CopyToAsync(copy));
        Assert.True(copy.Length < data.Length);
        Assert.True(data.AsSpan(0, (int)copy.Length).SequenceEqual(copy.ToArray()));
    }

    [Fact(Timeout = 30_000)]
    public async Task Latency_delays_each_operation_on_the_injected_clock()
    {
        var clock = new FakeTimeProvider();
        await using var store = new FaultInjectingStore(new FolderStore(_temp.Combine("slow")),
            new FaultOptions { Seed = 1, MaxLatency = TimeSpan.FromSeconds(10), TimeProvider = clock });

        var stat = store.StatAsync("k");
        await Task.Delay(50);
        Assert.False(stat.IsCompleted, "the operation should wait for its latency");
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(await stat);
    }

    public void Dispose() => _temp.Dispose();

    private async Task<List<string>> OutcomesAsync(int seed)
    {
        var folder = new FolderStore(_temp.Combine("seed-" + Guid.NewGuid().ToString("N")[..6]));
        await using var store = new FaultInjectingStore(folder, FaultOptions.Uniform(0.3, seed));
        var outcomes = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            try
            {
                await store.PutAsync($"k{i}", new byte[] { 1 }, PutMode.Overwrite);
                outcomes.Add("ok");
            }
            catch (StoreException e)
            {
                outcomes.Add(e.Message.Contains("dropped", StringComparison.Ordinal) ? "lost" : "failed");
            }
        }

        return outcomes;
    }
}
