using Baton.Checking;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Decorators;

namespace Baton.Testing;

/// <summary>
/// Pushes and restores through a store with injected faults (failed requests, lost responses, reads and listings
/// that break off). With retries a push completes; without, it fails cleanly. Either way <c>check</c> finds the
/// repository healthy and nothing partial is visible. Each store's tests derive from this class once.
/// </summary>
public abstract class StoreFaultScenarios : IDisposable
{
    private readonly TempDirectory _temp = new("baton-faults-");

    /// <summary>Retries fast enough for tests: the backoff is real, only shorter.</summary>
    public static RetryOptions FastRetries(int attempts) => new()
    {
        MaxAttempts = attempts,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(20),
    };

    /// <summary>The decorators of the conformance suite run "with faults": 10% of every kind of fault, retried.</summary>
    public static StoreStackOptions FaultyStack(int seed) => new()
    {
        Faults = FaultOptions.Uniform(0.1, seed),
        Retry = FastRetries(12),
    };

    /// <summary>Opens the undecorated store called <paramref name="name"/>; two stores opened with one name share their objects.</summary>
    protected abstract IObjectStore OpenStore(string name);

    [Fact(Timeout = 180_000)]
    public async Task A_push_through_injected_faults_completes_with_retries_and_restores_exactly()
    {
        var name = NewName();
        var source = WriteCheckpoint("ckpt", 1);
        var faulty = new FaultInjectingStore(OpenStore(name), FaultOptions.Uniform(0.2, 11));
        await using (var store = new RetryingStore(faulty, FastRetries(14)))
        {
            var repository = await Repository.OpenOrInitAsync(store, SmallPacks);
            var pushed = await repository.PushAsync(source, "r1", new PushOptions { Step = 1 });
            var restored = _temp.Combine("restored");
            await repository.RestoreAsync(pushed, restored);
            TestData.AssertSameTree(source, restored);
        }

        Assert.True(faulty.Injected > 0, "no fault was injected, so the test proved nothing");
        Assert.Equal(1, await AssertHealthyAsync(name));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_push_that_runs_out_of_retries_fails_cleanly_and_leaves_the_store_healthy()
    {
        var name = NewName();
        var first = WriteCheckpoint("first", 2);
        await using (var clean = OpenStore(name))
        {
            var repository = await Repository.OpenOrInitAsync(clean, SmallPacks);
            await repository.PushAsync(first, "r1", new PushOptions { Step = 1 });
        }

        var second = WriteCheckpoint("second", 3);
        var faulty = new FaultInjectingStore(OpenStore(name), FaultOptions.Uniform(0.3, 5));
        StoreException? failure = null;
        await using (var store = new RetryingStore(faulty, FastRetries(1)))
        {
            try
            {
                var repository = await Repository.OpenAsync(store, SmallPacks);
                await repository.PushAsync(second, "r1", new PushOptions { Step = 2, TakeOver = true });
            }
            catch (StoreException e)
            {
                failure = e;
            }
        }

        Assert.True(faulty.Injected > 0, "no fault was injected, so the test proved nothing");
        Assert.Equal(failure is null ? 2 : 1, await AssertHealthyAsync(name));
    }

    public void Dispose()
    {
        _temp.Dispose();
        GC.SuppressFinalize(this);
    }

    private static RepositoryOptions SmallPacks => new() { PackSize = 256 * 1024 };

    private static string NewName() => "faults-" + Guid.NewGuid().ToString("N")[..10];

    private string WriteCheckpoint(string name, int seed)
    {
        var dir = _temp.Combine(name);
        TestData.WriteRandomFile(Path.Combine(dir, "weights.bin"), 1_500_000, seed);
        TestData.WriteRandomFile(Path.Combine(dir, "optimizer", "state.bin"), 700_000, seed + 100);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"seed\": " + seed + "}");
        return dir;
    }

    // Checks every byte through a clean view of the store and returns how many snapshots run r1 has.
    private async Task<int> AssertHealthyAsync(string name)
    {
        await using var clean = OpenStore(name);
        var repository = await Repository.OpenAsync(clean);
        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.True(report.IsHealthy, string.Join("; ", report.Errors));
        var snapshots = await repository.ListSnapshotsAsync("r1");
        var restored = _temp.Combine("check-" + Guid.NewGuid().ToString("N")[..6]);
        await repository.RestoreAsync(snapshots[^1], restored);
        return snapshots.Count;
    }
}
