using Baton.Compression;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;
using Baton.Tests.Maintenance;

namespace Baton.Tests.Snapshots;

/// <summary>
/// A delta push reads each base from the previous checkpoint's file when the trainer still keeps it on disk
/// (<c>ckpt-1.f32</c> beside <c>ckpt-2.f32</c>), not back from the store; only bytes that hash to the base are used.
/// </summary>
public sealed class LocalDeltaBaseTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_renamed_checkpoint_reads_its_bases_from_the_predecessor_on_disk_when_the_trainer_kept_it(bool kept)
    {
        var (store, repository, dir, next) = await PushFirstAsync();
        if (!kept)
        {
            File.Delete(Path.Combine(dir, "ckpt-1.f32"));
        }

        var snapshot = await PushSecondAsync(store, repository, dir);

        Assert.True(await DeltaCountAsync(repository) > 0, "the second checkpoint was stored without deltas");
        if (kept)
        {
            Assert.Equal(0, store.DataReads);
        }
        else
        {
            Assert.True(store.DataReads > 0, "with no predecessor on disk the bases come from the store");
        }

        await AssertRestoresAsync(repository, snapshot, next);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_predecessor_changed_on_disk_is_not_used_as_a_base_and_the_snapshot_restores()
    {
        var (store, repository, dir, next) = await PushFirstAsync();
        var predecessor = Path.Combine(dir, "ckpt-1.f32");
        var altered = File.ReadAllBytes(predecessor);
        for (var i = 0; i < altered.Length; i += 4096)
        {
            altered[i] ^= 0x5a; // same size, other bytes: every chunk's hash differs
        }

        File.WriteAllBytes(predecessor, altered);

        var snapshot = await PushSecondAsync(store, repository, dir);

        Assert.True(store.DataReads > 0, "the altered file's bytes were taken as bases");
        Assert.True(await DeltaCountAsync(repository) > 0, "the second checkpoint was stored without deltas");
        await AssertRestoresAsync(repository, snapshot, next);
    }

    public void Dispose() => _temp.Dispose();

    private async Task<(CountingDataReads Store, Repository Repository, string Dir, byte[] Next)> PushFirstAsync()
    {
        var store = new CountingDataReads(new FolderStore(_temp.Combine("store")));
        var repository = await TestRepositories.CreateAsync(store);
        var dir = _temp.Combine("ckpt");
        Directory.CreateDirectory(dir);
        var weights = DeltaRepackTests.Weights(1, 1_000_000);
        File.WriteAllBytes(Path.Combine(dir, "ckpt-1.f32"), weights);
        await repository.PushAsync(dir, "r", new PushOptions { Step = 1, Compression = CompressionChoice.Small });
        var next = DeltaRepackTests.Nudge(weights, 2);
        File.WriteAllBytes(Path.Combine(dir, "ckpt-2.f32"), next);
        return (store, repository, dir, next);
    }

    // As a supervisor pushes: only the new checkpoint's file, the directory it lies in searched for bases.
    private static async Task<Snapshot> PushSecondAsync(CountingDataReads store, Repository repository, string dir)
    {
        store.Reset();
        var snapshot = await repository.PushAsync(dir, "r", new PushOptions
        {
            Step = 2, Include = ["ckpt-2.f32"], LocalBaseDirectory = dir, Compression = CompressionChoice.Small,
        });
        Assert.Equal(["ckpt-2.f32"], snapshot.Manifest.Entries.Where(e => e.Kind == EntryKind.File).Select(e => e.Path));
        return snapshot;
    }

    private static async Task<int> DeltaCountAsync(Repository repository) =>
        (await repository.ReadAllIndexFilesAsync()).Values.SelectMany(f => f.Packs).SelectMany(p => p.Blobs).Count(b => b.Codec == BlobCodec.Delta);

    private async Task AssertRestoresAsync(Repository repository, Snapshot snapshot, byte[] expected)
    {
        var target = _temp.Combine("restored");
        await repository.RestoreAsync(snapshot, target);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(target, "ckpt-2.f32")));
    }

    /// <summary>Counts reads of packs (where bases are read from).</summary>
    private sealed class CountingDataReads(IObjectStore inner) : ObjectStoreDecorator(inner)
    {
        private int _dataReads;

        public int DataReads => Volatile.Read(ref _dataReads);

        public void Reset() => Volatile.Write(ref _dataReads, 0);

        public override Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
        {
            if (key.StartsWith(RepositoryLayout.DataPrefix, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _dataReads);
            }

            return base.OpenReadAsync(key, offset, length, cancellationToken);
        }
    }
}
