using Baton.Checking;
using Baton.Leases;
using Baton.Maintenance;
using Baton.Repositories;
using Baton.Retention;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Maintenance;

/// <summary>Liveness of in-flight markers and writer leases is judged by the store's clock, never by a client's.</summary>
public sealed class StoreClockTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task A_prune_whose_clock_runs_twenty_minutes_ahead_still_sees_a_fresh_push_marker_as_live()
    {
        var store = new FolderStore(_temp.Combine("store"));
        var pusher = await Repository.OpenOrInitAsync(store);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 1);
        await pusher.PushAsync(source, "r", new() { Step = 1 });
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 2);
        await pusher.PushAsync(source, "r", new() { Step = 2 });
        var packs = await PackCountAsync(store);

        var ahead = await Repository.OpenAsync(store, new RepositoryOptions { TimeProvider = new ShiftedClock(TimeSpan.FromMinutes(20)) });
        CollectionResult result;
        await using (await InFlightMarker.BeginAsync(pusher, "r"))
        {
            result = (await new Pruner(ahead).PruneAsync("r", new RetentionPolicy { KeepLast = 1 })).Collection;
        }

        Assert.Equal(0, result.PacksDeleted);
        Assert.Contains("in flight", result.Deferred, StringComparison.Ordinal);
        Assert.Equal(packs, await PackCountAsync(store));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_marker_the_store_stamped_long_ago_is_stale_whatever_time_it_records()
    {
        var store = new FolderStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 1);
        await repository.PushAsync(source, "r", new() { Step = 1 });
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 2);
        await repository.PushAsync(source, "r", new() { Step = 2 });
        var packs = await PackCountAsync(store);

        // The pusher's clock ran 20 minutes ahead (its record says "just now" to a correct clock, for a long while),
        // but the store last saw the marker eleven minutes ago.
        var ahead = await Repository.OpenAsync(store, new RepositoryOptions { TimeProvider = new ShiftedClock(TimeSpan.FromMinutes(20)) });
        var marker = await InFlightMarker.BeginAsync(ahead, "r");
        File.SetLastWriteTimeUtc(_temp.Combine("store", "inflight", marker.Id), TimeProvider.System.GetUtcNow().UtcDateTime - TimeSpan.FromMinutes(11));

        var result = (await new Pruner(repository).PruneAsync("r", new RetentionPolicy { KeepLast = 1 })).Collection;

        Assert.Null(result.Deferred);
        Assert.Equal(1, result.PacksDeleted);
        Assert.Equal(packs - 1, await PackCountAsync(store));
        await marker.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_writer_whose_clock_runs_ahead_does_not_take_a_live_lease_over()
    {
        var store = new FolderStore(_temp.Combine("store"));
        var holder = await Repository.OpenOrInitAsync(store, new RepositoryOptions { HostName = "machine-a" });
        await using var held = await WriterLease.AcquireAsync(holder, "r", new LeaseOptions { Holder = "baton run" });

        var ahead = await Repository.OpenAsync(store, new RepositoryOptions { HostName = "machine-b", TimeProvider = new ShiftedClock(TimeSpan.FromMinutes(20)) });
        var error = await Assert.ThrowsAsync<ConflictException>(() => WriterLease.AcquireAsync(ahead, "r"));

        Assert.Contains("is held by baton run on machine-a", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.ListAllAsync(RepositoryLayout.SnapshotPrefix("r"))); // no fence written
    }

    [Fact(Timeout = 60_000)]
    public async Task A_lease_the_store_last_heard_from_a_minute_ago_is_taken_over_even_by_a_writer_whose_clock_lags()
    {
        var store = new FolderStore(_temp.Combine("store"));
        var holder = await Repository.OpenOrInitAsync(store, new RepositoryOptions { HostName = "machine-a" });
        var stale = await WriterLease.AcquireAsync(holder, "r", new LeaseOptions { Holder = "baton run" });
        File.SetLastWriteTimeUtc(_temp.Combine("store", "runs", "r", "epochs", $"{stale.Epoch:D10}"), TimeProvider.System.GetUtcNow().UtcDateTime - TimeSpan.FromMinutes(1));

        var behind = await Repository.OpenAsync(store, new RepositoryOptions { HostName = "machine-b", TimeProvider = new ShiftedClock(TimeSpan.FromMinutes(-20)) });
        await using var fresh = await WriterLease.AcquireAsync(behind, "r");

        Assert.Contains("machine-a", fresh.TookOverFrom, StringComparison.Ordinal);
        Assert.Equal(stale.Epoch + 1, fresh.Epoch);
        Assert.Empty(await store.ListAllAsync($"runs/r/clock/")); // the probe is gone
    }

    [Fact(Timeout = 120_000)]
    public async Task A_collection_whose_marker_was_removed_as_stale_stops_before_it_deletes_anything()
    {
        var store = new InFlightListingStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store);
        await PushThreeAsync(repository);
        var packs = (await store.ListAllAsync("data/")).Select(i => i.Key).ToList();
        // As if another process judged the collection dead right after it looked for pushes.
        store.AfterListing = async keys =>
        {
            foreach (var key in keys)
            {
                await store.DeleteAsync(key);
            }
        };

        var error = await Assert.ThrowsAsync<ConflictException>(() => new Pruner(repository).PruneAsync("r", new RetentionPolicy { KeepLast = 1 }));

        Assert.Contains("stopped without deleting", error.Message, StringComparison.Ordinal);
        await AssertNothingDeletedAndLaterPruneFinishesAsync(store, repository, packs);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_collection_paused_for_longer_than_half_its_timeout_stops_before_it_deletes_anything()
    {
        var store = new InFlightListingStore(_temp.Combine("store"));
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var repository = await Repository.OpenOrInitAsync(store, new RepositoryOptions { TimeProvider = clock });
        await PushThreeAsync(repository);
        var packs = (await store.ListAllAsync("data/")).Select(i => i.Key).ToList();
        // The process stands still for 30 seconds (SIGSTOP, a suspended VM) right after it looked for pushes; its
        // monotonic clock runs on.
        store.AfterListing = _ =>
        {
            store.AfterListing = null;
            clock.Advance(TimeSpan.FromSeconds(30));
            return Task.CompletedTask;
        };

        var error = await Assert.ThrowsAsync<ConflictException>(() => new Pruner(repository).PruneAsync("r", new RetentionPolicy { KeepLast = 1 }));

        Assert.Contains("stopped without deleting", error.Message, StringComparison.Ordinal);
        await AssertNothingDeletedAndLaterPruneFinishesAsync(store, repository, packs);
    }

    private async Task PushThreeAsync(Repository repository)
    {
        var source = _temp.Combine("src");
        for (var step = 1; step <= 3; step++)
        {
            TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 1_000_000, step);
            await repository.PushAsync(source, "r", new() { Step = step });
        }
    }

    private async Task AssertNothingDeletedAndLaterPruneFinishesAsync(InFlightListingStore store, Repository repository, List<string> packs)
    {
        Assert.All(packs, key => Assert.True(File.Exists(_temp.Combine("store", key)), $"{key} was deleted"));
        store.AfterListing = null;
        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.True(report.IsHealthy, string.Join("\n", report.Errors));
        Assert.Equal(2, (await new GarbageCollector(repository).CollectAsync()).PacksDeleted); // a later prune finishes
    }

    private static async Task<int> PackCountAsync(IObjectStore store) => (await store.ListAllAsync("data/")).Count;

    public void Dispose() => _temp.Dispose();

    /// <summary>The system clock, shifted (as faketime shifts a process's clock); timers run in real time.</summary>
    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }

    /// <summary>A folder store that runs an action (given the keys listed) right after <c>inflight/</c> is listed.</summary>
    private sealed class InFlightListingStore(string root) : IObjectStore
    {
        private readonly FolderStore _inner = new(root);

        public Func<IReadOnlyList<string>, Task>? AfterListing { get; set; }

        public string Location => _inner.Location;

        public StoreCapabilities Capabilities => _inner.Capabilities;

        public Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default) =>
            _inner.PutAsync(key, data, mode, cancellationToken);

        public Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default) =>
            _inner.OpenReadAsync(key, offset, length, cancellationToken);

        public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) => _inner.StatAsync(key, cancellationToken);

        public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var keys = new List<string>();
            await foreach (var info in _inner.ListAsync(prefix, cancellationToken))
            {
                keys.Add(info.Key);
                yield return info;
            }

            if (prefix == InFlightMarker.Prefix && AfterListing is { } action)
            {
                await action(keys);
            }
        }

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => _inner.DeleteAsync(key, cancellationToken);

        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }
}
