using Baton.Maintenance;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Maintenance;

public sealed class RepackTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Prune_repacks_mostly_empty_packs_reclaims_their_garbage_and_every_snapshot_still_restores_bit_identical(bool encrypted)
    {
        var scenario = new RepackScenario(_temp, encrypted);
        var store = _temp.Combine("store");
        var repository = await scenario.CreateAsync(store);
        var objects = repository.Store;
        var before = await RepackScenario.PacksAsync(objects);
        var snapshots = await repository.ListSnapshotsAsync("r");
        var sharedChunks = new[] { snapshots[0], snapshots[2] }.Sum(s => s.Manifest.Entries.Single(e => e.Path == "shared.bin").Chunks!.Count);

        var preview = await new Pruner(repository).PruneAsync("r", RepackScenario.KeepLast, dryRun: true);
        Assert.Equal(1, preview.Collection.PacksCondemned);
        Assert.Equal(2, preview.Collection.PacksToRepack);
        Assert.InRange(preview.Collection.BytesToReclaim, 1_900_000, 2_100_000);
        Assert.Equal(before, await RepackScenario.PacksAsync(objects));

        var result = (await new Pruner(repository).PruneAsync("r", RepackScenario.KeepLast)).Collection;

        Assert.Null(result.Deferred);
        Assert.Equal(1, result.PacksDeleted);
        Assert.Equal(2, result.PacksRepacked);
        Assert.Equal(1, result.PacksWritten);
        Assert.Equal((2 * 64_000) + (sharedChunks * repository.Cipher.Overhead), result.BytesCopied); // the encrypted chunker's cuts vary
        Assert.InRange(result.BytesReclaimed, 1_900_000, 2_100_000);
        var after = await RepackScenario.PacksAsync(objects);
        Assert.Equal(before.Count - 2, after.Count);
        Assert.Equal(before.Bytes - result.BytesFreed - result.BytesReclaimed, after.Bytes);
        Assert.Empty(await objects.ListAllAsync(GarbageCollector.Prefix));
        Assert.Empty(await objects.ListAllAsync(InFlightMarker.Prefix));

        // Through a fresh opening of the store, as another machine would see it.
        var reopened = await scenario.OpenAsync(new FolderStore(store));
        Assert.Empty(await scenario.AssertHealthyAsync(reopened, "after the repack"));
        Assert.Equal(2, (await reopened.ListAllSnapshotsAsync()).Count);

        // Nothing more to do the second time.
        var again = await new GarbageCollector(reopened).CollectAsync();
        Assert.Equal(0, again.PacksDeleted + again.PacksRepacked);
    }

    [Fact(Timeout = 120_000)]
    public async Task Small_packs_are_merged_only_once_there_are_enough_of_them()
    {
        var repository = await Repository.InitAsync(new FolderStore(_temp.Combine("store")), new RepositoryOptions { PackSize = 4 * 1024 * 1024 });
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var k = 1; k <= 4; k++)
        {
            var source = _temp.Combine($"src-{k}");
            TestData.WriteRandomFile(Path.Combine(source, "part.bin"), 50_000, k);
            sources[(await repository.PushAsync(source, "r", new() { Step = k })).Id] = source;
        }

        Assert.Equal(0, (await new GarbageCollector(repository).CollectAsync()).PacksRepacked);
        Assert.Equal(4, (await RepackScenario.PacksAsync(repository.Store)).Count);

        var merged = await new GarbageCollector(repository, RepackPolicy.Default with { MinSmallPacks = 4 }).CollectAsync();

        Assert.Equal(4, merged.PacksRepacked);
        Assert.Equal(1, merged.PacksWritten);
        Assert.Equal(0, merged.PacksDeleted);
        Assert.Equal(1, (await RepackScenario.PacksAsync(repository.Store)).Count);
        foreach (var snapshot in await repository.ListSnapshotsAsync("r"))
        {
            var target = _temp.Combine("restored", snapshot.Id);
            await repository.RestoreAsync(snapshot, target);
            TestData.AssertSameTree(sources[snapshot.Id], target);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task A_push_in_flight_when_packs_are_marked_for_repacking_defers_the_repack_and_what_it_commits_survives()
    {
        var scenario = new RepackScenario(_temp, encrypted: false);
        var repository = await scenario.CreateAsync(_temp.Combine("store"));
        var doomed = (await repository.ListSnapshotsAsync("r"))[0];

        CollectionResult deferred;
        await using (await InFlightMarker.BeginAsync(repository, "r"))
        {
            deferred = (await new Pruner(repository).PruneAsync("r", RepackScenario.KeepLast)).Collection;

            // The push in flight had loaded its index before the mark, so it may reference any chunk of the marked
            // packs, even one no snapshot needed when they were marked: commit such a snapshot (snapshot 1's files).
            var resurrected = doomed.Manifest with { Sequence = 6, Step = 6, Parent = null, Created = DateTimeOffset.UnixEpoch };
            scenario.Sources[(await repository.CommitAsync(resurrected, CancellationToken.None)).Id] = scenario.Sources[doomed.Id];
        }

        Assert.Equal(0, deferred.PacksDeleted + deferred.PacksRepacked);
        Assert.Equal(2, deferred.PacksToRepack);
        Assert.Contains("in flight", deferred.Deferred, StringComparison.Ordinal);

        var swept = await new GarbageCollector(repository).CollectAsync();

        // Pack 1 holds all of snapshot 1 again: it is kept whole. Pack 3 is still mostly garbage: repacked.
        Assert.Equal(1, swept.PacksRepacked);
        Assert.Empty(await scenario.AssertHealthyAsync(repository, "after the deferred sweep"));
        Assert.Equal(3, (await repository.ListAllSnapshotsAsync()).Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_collection_in_flight_keeps_another_from_sweeping()
    {
        var scenario = new RepackScenario(_temp, encrypted: false);
        var repository = await scenario.CreateAsync(_temp.Combine("store"));
        var packs = await RepackScenario.PacksAsync(repository.Store);

        CollectionResult deferred;
        await using (await InFlightMarker.BeginCollectionAsync(repository))
        {
            deferred = (await new Pruner(repository).PruneAsync("r", RepackScenario.KeepLast)).Collection;
        }

        Assert.Contains("another garbage collection", deferred.Deferred, StringComparison.Ordinal);
        Assert.Equal(packs, await RepackScenario.PacksAsync(repository.Store));
        var swept = await new GarbageCollector(repository).CollectAsync();
        Assert.Equal((1, 2), (swept.PacksDeleted, swept.PacksRepacked));
        Assert.Empty(await scenario.AssertHealthyAsync(repository, "after the sweep"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_corrupt_blob_stops_the_repack_before_anything_is_deleted()
    {
        var scenario = new RepackScenario(_temp, encrypted: false);
        var store = _temp.Combine("store");
        var repository = await scenario.CreateAsync(store);
        var first = (await repository.ListSnapshotsAsync("r"))[0];
        var index = await repository.LoadIndexAsync();
        Assert.True(index.TryGet(Baton.ContentId.Parse(first.Manifest.Entries.Single(e => e.Path == "shared.bin").Chunks![0]), out var location));
        var path = Path.Combine(store, Baton.Packs.PackFormat.KeyOf(location.PackId));
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[location.Entry.Offset + 10] ^= 0x40;
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllBytesAsync(path, bytes);
        var packs = await RepackScenario.PacksAsync(repository.Store);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => new Pruner(repository).PruneAsync("r", RepackScenario.KeepLast));

        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
        Assert.Contains("before deleting anything", error.Message, StringComparison.Ordinal);
        var after = await repository.Store.ListAllAsync(RepositoryLayout.DataPrefix);
        Assert.True(after.Count >= packs.Count, "a pack was deleted");
        Assert.Contains(after, p => p.Key == Baton.Packs.PackFormat.KeyOf(location.PackId));
    }

    public void Dispose() => _temp.Dispose();
}
