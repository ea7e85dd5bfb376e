using Baton.Checking;
using Baton.Maintenance;
using Baton.Packs;
using Baton.Repositories;
using Baton.Retention;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Maintenance;

public sealed class GarbageCollectorTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Prune_frees_the_packs_of_removed_snapshots_and_the_rest_stays_restorable()
    {
        var (repository, store) = await OpenAsync();
        var source = _temp.Combine("src");
        for (var step = 1; step <= 4; step++)
        {
            TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 3_000_000, step);
            await repository.PushAsync(source, "r", new() { Step = step });
        }

        var before = await PackCountAsync(store);
        var result = await new Pruner(repository).PruneAsync("r", new RetentionPolicy { KeepLast = 1 });

        Assert.Equal(3, result.Removed.Count());
        Assert.Equal(3, result.Collection.PacksDeleted);
        Assert.Equal(before - 3, await PackCountAsync(store));
        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.True(report.IsHealthy, string.Join("\n", report.Errors));
        Assert.Empty(report.Warnings);
        var restored = _temp.Combine("restored");
        await repository.RestoreAsync((await repository.FindSnapshotAsync("r"))!, restored);
        TestData.AssertSameTree(source, restored);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_push_in_flight_defers_deletion_until_it_is_gone()
    {
        var (repository, store) = await OpenAsync();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 1);
        var first = await repository.PushAsync(source, "r", new() { Step = 1 });
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 2);
        await repository.PushAsync(source, "r", new() { Step = 2 });
        var packs = await PackCountAsync(store);

        CollectionResult deferred;
        await using (await InFlightMarker.BeginAsync(repository, "other"))
        {
            deferred = (await new Pruner(repository).PruneAsync("r", new RetentionPolicy { KeepLast = 1 })).Collection;
        }

        Assert.Equal(0, deferred.PacksDeleted);
        Assert.Equal(1, deferred.PacksCondemned);
        Assert.Contains("in flight", deferred.Deferred, StringComparison.Ordinal);
        Assert.Equal(packs, await PackCountAsync(store));

        var swept = await new GarbageCollector(repository).CollectAsync();
        Assert.Equal(1, swept.PacksDeleted);
        Assert.Equal(packs - 1, await PackCountAsync(store));
        Assert.Null(await repository.FindSnapshotAsync("r", step: 1));
        Assert.NotEqual(first.Id, (await repository.FindSnapshotAsync("r"))!.Id);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_push_after_a_mark_does_not_reuse_chunks_of_marked_packs()
    {
        var (repository, _) = await OpenAsync();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 1);
        await repository.PushAsync(source, "old", new() { Step = 1 });

        // Remove the only snapshot that references the data (with the run's lease records, which would report it as
        // vanished), and mark its pack while a push is "in flight".
        await repository.Store.DeleteAsync(RepositoryLayout.SnapshotKey("old", 1));
        await repository.Store.DeleteAsync("runs/old/heartbeats/0000000001");
        await using (await InFlightMarker.BeginAsync(repository, "x"))
        {
            Assert.Equal(1, (await new GarbageCollector(repository).CollectAsync()).PacksCondemned);
        }

        // The same bytes pushed now (with a new file beside them, so that the new pack differs from the marked one)
        // must be stored again, so that the sweep cannot take them away.
        TestData.WriteRandomFile(Path.Combine(source, "b.bin"), 1_000_000, 2);
        var snapshot = await repository.PushAsync(source, "new", new() { Step = 2 });
        Assert.Equal(3_000_000, snapshot.Manifest.Stats.BytesNew);
        var sweep = await new GarbageCollector(repository).CollectAsync();
        Assert.True(sweep.PacksDeleted == 1, sweep.ToString());

        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.True(report.IsHealthy, string.Join("\n", report.Errors));
        var restored = _temp.Combine("restored");
        await repository.RestoreAsync(snapshot, restored);
        TestData.AssertSameTree(source, restored);
    }

    [Fact(Timeout = 120_000)]
    public async Task Packs_left_by_a_killed_push_are_collected()
    {
        var (repository, store) = await OpenAsync();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 1_000_000, 1);
        await repository.PushAsync(source, "r");
        using var orphan = new PackBuilder(1024);
        orphan.Add(ContentId.Compute([1, 2, 3]), Baton.Compression.BlobCodec.None, [1, 2, 3], 3);
        using var sealedPack = orphan.Seal();
        await store.PutAsync(PackFormat.KeyOf(sealedPack.Id), sealedPack.Bytes, PutMode.Overwrite);

        var result = await new GarbageCollector(repository).CollectAsync();

        Assert.Equal(1, result.PacksDeleted);
        Assert.Null(await store.StatAsync(PackFormat.KeyOf(sealedPack.Id)));
        Assert.True((await new Checker(repository).CheckAsync(readData: true)).IsHealthy);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_dry_run_changes_nothing()
    {
        var (repository, store) = await OpenAsync();
        var source = _temp.Combine("src");
        for (var step = 1; step <= 3; step++)
        {
            TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 500_000, step);
            await repository.PushAsync(source, "r", new() { Step = step });
        }

        var keys = (await store.ListAllAsync("")).Select(i => i.Key).Order().ToList();
        var result = await new Pruner(repository).PruneAsync("r", new RetentionPolicy { KeepLast = 1 }, dryRun: true);

        Assert.Equal(2, result.Removed.Count());
        Assert.Equal(2, result.Collection.PacksCondemned);
        Assert.Equal(keys, (await store.ListAllAsync("")).Select(i => i.Key).Order().ToList());
    }

    private async Task<(Repository, IObjectStore)> OpenAsync()
    {
        var store = new FolderStore(_temp.Combine("store"));
        return (await Repository.OpenOrInitAsync(store), store);
    }

    private static async Task<int> PackCountAsync(IObjectStore store) => (await store.ListAllAsync("data/")).Count;

    public void Dispose() => _temp.Dispose();
}
