using Baton.Checking;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;

namespace Baton.Testing;

/// <summary>
/// Damaged objects in a repository on each store: <c>check --read-data</c> names every one and goes on (it never stops
/// at the first), and a restore fails with an integrity error instead of restoring something else.
/// </summary>
public abstract partial class ObjectStoreConformance
{
    /// <summary>The ways an object is damaged.</summary>
    public static TheoryData<string, string> Corruptions => new()
    {
        { "data/", "flip" },
        { "data/", "truncate" },
        { "runs/r/snapshots/", "flip" },
        { "index/", "flip" },
        { "index/", "truncate" },
    };

    [Theory(Timeout = 180_000)]
    [MemberData(nameof(Corruptions))]
    public async Task A_damaged_object_is_named_by_check_read_data_and_fails_restore_as_an_integrity_error(string prefix, string damage)
    {
        await using var store = await CreateStoreAsync();
        using var temp = new TempDirectory("baton-corrupt-");
        var source = temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 600_000, 21);
        TestData.WriteRandomFile(Path.Combine(source, "optimizer.bin"), 300_000, 22);
        var writer = await Repository.InitAsync(store, new RepositoryOptions { PackSize = 256 * 1024 });
        await writer.PushAsync(source, "r", new PushOptions { Step = 1 });
        var key = (await store.ListAllAsync(prefix)).Select(i => i.Key).Order(StringComparer.Ordinal).First();
        var bytes = await store.ReadAllAsync(key);
        if (damage == "flip")
        {
            bytes[bytes.Length / 2] ^= 0x08;
        }
        else
        {
            bytes = bytes[..(bytes.Length / 2)];
        }

        await store.PutAsync(key, bytes, PutMode.Overwrite);
        var repository = await Repository.OpenAsync(store);

        var report = await new Checker(repository).CheckAsync(readData: true);
        var restore = await Record.ExceptionAsync(async () =>
        {
            var snapshot = await repository.FindSnapshotAsync("r") ?? throw new IntegrityException("no snapshot left");
            await repository.RestoreAsync(snapshot, temp.Combine("restored"));
        });

        Assert.Contains(report.Errors, e => e.Contains(key, StringComparison.Ordinal));
        var error = Assert.IsAssignableFrom<BatonException>(restore);
        Assert.True(error.Category == ErrorCategory.Integrity, $"{error.GetType().Name}: {error.Message}");
    }
}
