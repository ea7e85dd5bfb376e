using System.Text;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Storage.Decorators;

public sealed class RetryingStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 30_000)]
    public async Task Transient_failures_are_retried_after_a_backoff_measured_on_the_injected_clock()
    {
        var clock = new FakeTimeProvider();
        var inner = Scripted();
        inner.Before = (call, _) => call <= 2 ? throw ScriptedStore.Transient() : Task.CompletedTask;
        await using var store = new RetryingStore(inner, new RetryOptions { TimeProvider = clock, BaseDelay = TimeSpan.FromSeconds(1), Randomizer = () => 0.5 });

        var put = store.PutAsync("k", new byte[] { 1 }, PutMode.Overwrite);
        await WaitUntilAsync(() => inner.Calls == 1);
        await Task.Delay(50);
        Assert.False(put.IsCompleted, "the retry must wait for the backoff, not run at once");
        Assert.Equal(1, inner.Calls);

        for (var step = 0; step < 200 && !put.IsCompleted; step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(5);
        }

        await put;
        Assert.Equal(3, inner.Calls);
        Assert.Equal(new byte[] { 1 }, await store.ReadAllAsync("k"));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(StoreErrorReason.NotFound)]
    [InlineData(StoreErrorReason.Unauthorized)]
    [InlineData(StoreErrorReason.Unreachable)]
    [InlineData(StoreErrorReason.Permanent)]
    public async Task Failures_that_retrying_cannot_fix_are_not_retried(StoreErrorReason reason)
    {
        var inner = Scripted();
        inner.Before = (_, _) => throw new StoreException(reason, "test", "k", "no");
        await using var store = new RetryingStore(inner, StoreFaultScenarios.FastRetries(5));

        var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("k"));
        Assert.Equal(reason, error.Reason);
        Assert.Equal(1, inner.Calls);
    }

    [Fact(Timeout = 30_000)]
    public async Task Retries_stop_at_the_attempt_limit_with_the_last_error()
    {
        var inner = Scripted();
        inner.Before = (call, _) => throw ScriptedStore.Transient($"failure {call}");
        await using var store = new RetryingStore(inner, StoreFaultScenarios.FastRetries(4));

        var error = await Assert.ThrowsAsync<StoreException>(() => store.DeleteAsync("k"));
        Assert.Equal("failure 4", error.Message);
        Assert.Equal(4, inner.Calls);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_create_new_whose_response_was_lost_is_done_when_the_retry_finds_its_own_bytes()
    {
        var inner = Scripted();
        inner.AfterWrite = call =>
        {
            if (call == 1)
            {
                throw ScriptedStore.Transient("connection dropped after the write");
            }
        };
        await using var store = new RetryingStore(inner, StoreFaultScenarios.FastRetries(3));

        await store.PutAsync("manifest", "mine"u8.ToArray(), PutMode.CreateNew);
        Assert.Equal("mine", Encoding.UTF8.GetString(await store.ReadAllAsync("manifest")));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_create_new_that_finds_another_writer_s_object_after_a_retry_still_fails()
    {
        var inner = Scripted();
        await inner.PutAsync("manifest", "theirs"u8.ToArray(), PutMode.CreateNew);
        inner.Before = (call, operation) => call == 2 ? throw ScriptedStore.Transient() : Task.CompletedTask;
        await using var store = new RetryingStore(inner, StoreFaultScenarios.FastRetries(3));

        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("manifest", "mine"u8.ToArray(), PutMode.CreateNew));
        Assert.Equal(StoreErrorReason.AlreadyExists, error.Reason);
        Assert.Equal("theirs", Encoding.UTF8.GetString(await store.ReadAllAsync("manifest")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_that_breaks_mid_transfer_resumes_where_it_stopped()
    {
        var folder = new FolderStore(_temp.Combine("store"));
        var data = new byte[3_000_000];
        new Random(1).NextBytes(data);
        await folder.PutAsync("big", data, PutMode.Overwrite);
        var faulty = new FaultInjectingStore(folder, new FaultOptions { Seed = 3, TruncatedReadRate = 0.7 });
        await using var store = new RetryingStore(faulty, StoreFaultScenarios.FastRetries(20));

        var whole = await store.ReadAllAsync("big");
        var range = await store.ReadRangeAsync("big", 1_000_000, 1_500_000);
        Assert.True(data.AsSpan().SequenceEqual(whole));
        Assert.True(data.AsSpan(1_000_000, 1_500_000).SequenceEqual(range));
        Assert.True(faulty.Injected > 0, "no read broke off, so nothing was resumed");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_listing_that_breaks_off_is_retried_whole_and_lists_each_key_once()
    {
        var folder = new FolderStore(_temp.Combine("list"));
        for (var i = 0; i < 30; i++)
        {
            await folder.PutAsync($"data/{i:00}", new byte[] { (byte)i }, PutMode.Overwrite);
        }

        var faulty = new FaultInjectingStore(folder, new FaultOptions { Seed = 2, BrokenListRate = 0.6 });
        await using var store = new RetryingStore(faulty, StoreFaultScenarios.FastRetries(30));
        for (var listing = 0; listing < 10; listing++)
        {
            var keys = (await store.ListAllAsync("data/")).Select(i => i.Key).ToList();
            Assert.Equal(30, keys.Count);
            Assert.Equal(30, keys.Distinct().Count());
        }

        Assert.True(faulty.Injected > 0, "no listing broke off");
    }

    public void Dispose() => _temp.Dispose();

    private ScriptedStore Scripted() => new(new FolderStore(_temp.Combine("s-" + Guid.NewGuid().ToString("N")[..6])));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
