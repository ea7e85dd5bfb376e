using Baton.Checking;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;

namespace Baton.Testing;

/// <summary>
/// A lost or damaged pack must not poison later pushes of the same bytes: a push stores the chunks of a pack the store
/// no longer holds again, and after <see cref="Repairer"/> drops a damaged pack from the index the next push stores
/// its chunks again. Each store's tests derive from this class once.
/// </summary>
public abstract class LostPackScenarios : IDisposable
{
    private readonly TempDirectory _temp = new("baton-lost-pack-");

    /// <summary>Opens a new, empty store.</summary>
    protected abstract IObjectStore OpenStore();

    [Theory(Timeout = 180_000)]
    [InlineData("r1")]
    [InlineData("r2")]
    public async Task A_push_after_a_pack_was_deleted_stores_its_chunks_again_and_both_snapshots_restore(string secondRun)
    {
        var source = WriteCheckpoint();
        await using var store = OpenStore();
        var repository = await Repository.InitAsync(store, SmallPacks);
        var first = await repository.PushAsync(source, "r1", new PushOptions { Step = 1 });
        var packs = await PackKeysAsync(store);
        await store.DeleteAsync(packs[packs.Count / 2]);

        var second = await repository.PushAsync(source, secondRun, new PushOptions { Step = 1 });

        Assert.True(second.Manifest.Stats.BytesNew > 0, "the push stored nothing new, so it references the deleted pack");
        await AssertRestoresAsync(repository, second, source);
        await AssertRestoresAsync(repository, first, source);
    }

    [Fact(Timeout = 180_000)]
    public async Task Repair_drops_a_damaged_pack_names_what_it_cost_and_the_next_push_makes_the_repository_whole()
    {
        var source = WriteCheckpoint();
        await using var store = OpenStore();
        var repository = await Repository.InitAsync(store, SmallPacks);
        var first = await repository.PushAsync(source, "r1", new PushOptions { Step = 7 });
        var damaged = (await PackKeysAsync(store))[0];
        var bytes = await store.ReadAllAsync(damaged);
        bytes[bytes.Length / 2] ^= 0x10;
        await store.PutAsync(damaged, bytes, PutMode.Overwrite);
        var before = await new Checker(repository).CheckAsync(readData: true);

        var repair = await new Repairer(repository).RepairAsync(readData: true);
        var pushed = await repository.PushAsync(source, "r1", new PushOptions { Step = 7 });

        Assert.Contains(damaged, before.DamagedPacks);
        Assert.True(repair.IsRepaired, string.Join("; ", repair.Unrepaired));
        Assert.Equal(damaged, Assert.Single(repair.DroppedPacks).Key);
        var lost = Assert.Single(repair.DamagedSnapshots);
        Assert.Equal((first.Id, "r1", 1L, (long?)7), (lost.Id, lost.Run, lost.Sequence, lost.Step));
        Assert.NotEmpty(lost.Files);
        Assert.True(pushed.Manifest.Stats.BytesNew > 0, "the push after repair stored nothing new");
        await AssertRestoresAsync(repository, pushed, source);
        await AssertRestoresAsync(repository, first, source);
        var after = await new Checker(repository).CheckAsync(readData: true);
        Assert.True(after.IsHealthy, string.Join("; ", after.Errors));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _temp.Dispose();
        GC.SuppressFinalize(this);
    }

    private static RepositoryOptions SmallPacks => new() { PackSize = 256 * 1024 };

    private static async Task<List<string>> PackKeysAsync(IObjectStore store) =>
        [.. (await store.ListAllAsync(RepositoryLayout.DataPrefix)).Select(i => i.Key).Order(StringComparer.Ordinal)];

    private string WriteCheckpoint()
    {
        var dir = _temp.Combine("ckpt");
        TestData.WriteRandomFile(Path.Combine(dir, "weights.bin"), 1_500_000, 5);
        TestData.WriteRandomFile(Path.Combine(dir, "optimizer", "state.bin"), 700_000, 6);
        return dir;
    }

    private async Task AssertRestoresAsync(Repository repository, Snapshot snapshot, string source)
    {
        var target = _temp.Combine("restored-" + Guid.NewGuid().ToString("N")[..6]);
        await repository.RestoreAsync(snapshot, target);
        TestData.AssertSameTree(source, target);
    }
}
