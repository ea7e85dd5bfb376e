using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Storage.Decorators;

public sealed class StoreStackTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 30_000)]
    public async Task The_default_stack_retries_transient_faults_and_limits_concurrency_to_the_store_s_own()
    {
        var running = 0;
        var most = 0;
        var gate = new object();
        var inner = new ScriptedStore(new FolderStore(_temp.Combine("s")))
        {
            Before = async (call, _) =>
            {
                if (call % 3 == 0)
                {
                    throw ScriptedStore.Transient();
                }

                var now = Interlocked.Increment(ref running);
                lock (gate)
                {
                    most = Math.Max(most, now);
                }

                await Task.Delay(10);
                Interlocked.Decrement(ref running);
            },
        };
        await using var store = StoreStack.Wrap(inner, StoreStackOptions.Default with { Retry = StoreFaultScenarios.FastRetries(5) });

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => store.PutAsync($"k{i}", new byte[] { 1 }, PutMode.Overwrite)));

        Assert.Equal(20, (await store.ListAllAsync("")).Count);
        Assert.InRange(most, 1, inner.Capabilities.Concurrency);
        Assert.True(inner.Calls > 20, "some operations should have been retried");
    }

    [Fact(Timeout = 30_000)]
    public async Task Without_retries_a_transient_fault_reaches_the_caller()
    {
        var inner = new ScriptedStore(new FolderStore(_temp.Combine("n"))) { Before = (_, _) => throw ScriptedStore.Transient() };
        await using var store = StoreStack.Wrap(inner, new StoreStackOptions { Retry = null, MaxConcurrency = 0 });

        await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("k"));
        Assert.Equal(1, inner.Calls);
    }

    public void Dispose() => _temp.Dispose();
}

/// <summary>The conformance suite through injected faults and the retry decorator, on a folder.</summary>
public sealed class FolderStoreWithFaultsConformanceTests : ObjectStoreConformance, IDisposable
{
    private static int _seed;
    private readonly TempDirectory _temp = new();

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult(StoreStack.Wrap(new FolderStore(_temp.Combine("store-" + Guid.NewGuid().ToString("N")[..8])),
            StoreFaultScenarios.FaultyStack(Interlocked.Increment(ref _seed))));

    public void Dispose() => _temp.Dispose();
}

public sealed class FolderStoreFaultScenarios : StoreFaultScenarios
{
    private readonly TempDirectory _temp = new();

    protected override IObjectStore OpenStore(string name) => new FolderStore(_temp.Combine(name));
}
