using Baton.Checking;
using Baton.Maintenance;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Maintenance;

/// <summary>
/// A push confirms its snapshot after the commit: packs that a collection removed while the push was paused (here the
/// collection is played by the store, which deletes them just before the manifest lands) are found and their chunks
/// stored again from the files, or the push fails loudly.
/// </summary>
public sealed class CommitConfirmationTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Packs_collected_under_a_paused_push_are_stored_again_and_the_snapshot_is_whole()
    {
        var store = new CollectingStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store, TestRepositories.Small);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "shared.bin"), 1_500_000, 1);
        await repository.PushAsync(source, "old", new() { Step = 1 });
        TestData.WriteRandomFile(Path.Combine(source, "new.bin"), 1_500_000, 2);

        // The push deduplicates shared.bin against the old run's packs and uploads new.bin; "meanwhile" the old run is
        // pruned and every pack is swept (the push's own ones were in no index yet). The old run goes whole, with its
        // lease records, which would otherwise report its only snapshot as vanished.
        store.BeforeManifest = async () =>
        {
            await store.DeleteAsync(RepositoryLayout.SnapshotKey("old", 1));
            await store.DeleteAsync("runs/old/heartbeats/0000000001");
            await store.SweepEverythingAsync();
        };
        var snapshot = await repository.PushAsync(source, "r", new() { Step = 2 });

        Assert.Equal(2, snapshot.Manifest.Step);
        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.True(report.IsHealthy, string.Join("\n", report.Errors));
        var restored = _temp.Combine("restored");
        await repository.RestoreAsync(snapshot, restored);
        TestData.AssertSameTree(source, restored);
    }

    [Fact(Timeout = 120_000)]
    public async Task When_the_files_changed_meanwhile_the_push_fails_loudly_instead_of_reporting_success()
    {
        var store = new CollectingStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store, TestRepositories.Small);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 1_500_000, 1);
        store.BeforeManifest = async () =>
        {
            await store.SweepEverythingAsync();
            TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 1_500_000, 9); // the trainer wrote its next checkpoint
        };

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.PushAsync(source, "r", new() { Step = 1 }));

        Assert.Contains("snapshot 1 of run 'r' lost data to a concurrent prune while this push was paused", error.Message, StringComparison.Ordinal);
        Assert.Contains("baton repair", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_push_waits_for_a_live_collection_before_it_reports_success()
    {
        var store = new CollectingStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store, TestRepositories.Small);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 500_000, 1);
        InFlightMarker? collection = null;
        store.BeforeManifest = async () => collection = await InFlightMarker.BeginCollectionAsync(repository);

        var push = repository.PushAsync(source, "r", new() { Step = 1 });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(await store.ListAllAsync(RepositoryLayout.SnapshotPrefix("r"))).Any())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the push never committed");
            await Task.Delay(10);
        }

        // Committed, yet not reported while the collection lives; reported once it ends.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(push.IsCompleted, "the push reported success while a collection was sweeping");
        await collection!.DisposeAsync();
        Assert.Equal(1, (await push.WaitAsync(TimeSpan.FromSeconds(60))).Manifest.Step);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_collection_marker_the_store_last_saw_a_minute_ago_does_not_hold_a_push_and_is_removed()
    {
        var store = new CollectingStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store, TestRepositories.Small);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 500_000, 1);
        // The marker of a prune killed (or paused) long ago: written, then left without heartbeats.
        var killed = await InFlightMarker.BeginCollectionAsync(repository);
        var key = InFlightMarker.Prefix + killed.Id;
        var bytes = await store.ReadAllAsync(key);
        await killed.DisposeAsync();
        await store.PutAsync(key, bytes, PutMode.Overwrite);
        var path = _temp.Combine("store", "inflight", killed.Id);
        File.SetLastWriteTimeUtc(path, TimeProvider.System.GetUtcNow().UtcDateTime - TimeSpan.FromMinutes(1));

        var snapshot = await repository.PushAsync(source, "r", new() { Step = 1 }).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, snapshot.Manifest.Step);
        Assert.False(File.Exists(path), "the stale collection marker is still there");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_delta_whose_base_was_collected_under_a_paused_push_is_stored_again_plainly()
    {
        var store = new CollectingStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store, TestRepositories.Small);
        var source = _temp.Combine("src");
        Directory.CreateDirectory(source);
        var weights = DeltaRepackTests.Weights(1, 300_000);
        File.WriteAllBytes(Path.Combine(source, "model.f32"), weights);
        await repository.PushAsync(source, "r", new() { Step = 1, Compression = global::Baton.Compression.CompressionChoice.Small });
        var earlier = (await store.ListAllAsync(RepositoryLayout.DataPrefix)).Concat(await store.ListAllAsync(RepositoryLayout.IndexPrefix)).Select(i => i.Key).ToList();
        File.WriteAllBytes(Path.Combine(source, "model.f32"), DeltaRepackTests.Nudge(weights, 2));

        // The push stores deltas against the first snapshot's chunks; "meanwhile" that snapshot is forgotten and its
        // packs swept (this push's index was not written yet when the collection looked).
        store.BeforeManifest = async () =>
        {
            await store.DeleteAsync(RepositoryLayout.SnapshotKey("r", 1));
            foreach (var key in earlier)
            {
                await store.DeleteAsync(key);
            }
        };
        var snapshot = await repository.PushAsync(source, "r", new() { Step = 2, Compression = global::Baton.Compression.CompressionChoice.Small });

        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.True(report.IsHealthy, string.Join("\n", report.Errors));
        Assert.Contains(report.Warnings, w => w.Contains("is a delta that cannot be read", StringComparison.Ordinal));
        var restored = _temp.Combine("restored");
        await repository.RestoreAsync(snapshot, restored);
        TestData.AssertSameTree(source, restored);
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>A folder store that runs an action just before a run's manifest is written.</summary>
    private sealed class CollectingStore(string root) : IObjectStore
    {
        private readonly FolderStore _inner = new(root);
        private Func<Task>? _action;

        /// <summary>Runs once, before the next manifest is written.</summary>
        public Func<Task>? BeforeManifest
        {
            get => _action;
            set => _action = value;
        }

        public string Location => _inner.Location;

        /// <summary>What a collection that found nothing referenced would leave: no packs, no index objects.</summary>
        public async Task SweepEverythingAsync()
        {
            foreach (var info in (await this.ListAllAsync(RepositoryLayout.IndexPrefix)).Concat(await this.ListAllAsync(RepositoryLayout.DataPrefix)))
            {
                await DeleteAsync(info.Key);
            }
        }

        public StoreCapabilities Capabilities => _inner.Capabilities;

        public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
        {
            if (key.Contains("/snapshots/", StringComparison.Ordinal) && Interlocked.Exchange(ref _action, null) is { } action)
            {
                await action();
            }

            await _inner.PutAsync(key, data, mode, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default) =>
            _inner.OpenReadAsync(key, offset, length, cancellationToken);

        public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) => _inner.StatAsync(key, cancellationToken);

        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => _inner.ListAsync(prefix, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => _inner.DeleteAsync(key, cancellationToken);

        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }
}
