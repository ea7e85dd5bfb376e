using Baton.Checking;
using Baton.Chunking;
using Baton.Maintenance;
using Baton.Repositories;
using Baton.Retention;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Tests.Encryption;
using Baton.Testing;

namespace Baton.Tests.Maintenance;

/// <summary>
/// A repository where pruning leaves mostly-empty packs: four snapshots of run <c>r</c>, each a new 1 MB
/// <c>a.bin</c> and a 64 KB <c>shared.bin</c> that changes every second push, and one snapshot of run <c>other</c>
/// that shares the first <c>shared.bin</c>. One pack per push (the pack size is 4 MiB). Keeping the last snapshot of
/// <c>r</c> leaves pack 2 unreferenced and packs 1 and 3 holding only a <c>shared.bin</c> each.
/// </summary>
internal sealed class RepackScenario(TempDirectory temp, bool encrypted)
{
    public static readonly RetentionPolicy KeepLast = new() { KeepLast = 1 };

    /// <summary>The source tree of every snapshot, by snapshot id.</summary>
    public Dictionary<string, string> Sources { get; } = new(StringComparer.Ordinal);

    public RepositoryOptions Options { get; } = new()
    {
        Chunker = new ChunkerParameters(16 * 1024, 64 * 1024, 256 * 1024, 0x5eed),
        PackSize = 4 * 1024 * 1024,
        Credentials = encrypted ? TestKeys.Password() : null,
        Argon2 = TestKeys.CheapArgon2,
    };

    /// <summary>Creates the repository in folder <paramref name="store"/> and pushes the five snapshots.</summary>
    public async Task<Repository> CreateAsync(string store)
    {
        var repository = await Repository.InitAsync(new FolderStore(store), Options);
        for (var k = 1; k <= 4; k++)
        {
            var source = temp.Combine("sources", $"r-{k}");
            TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 1_000_000, k);
            TestData.WriteRandomFile(Path.Combine(source, "shared.bin"), 64_000, 1000 + ((k - 1) / 2));
            Sources[(await repository.PushAsync(source, "r", new() { Step = k })).Id] = source;
        }

        var other = temp.Combine("sources", "other");
        TestData.WriteRandomFile(Path.Combine(other, "b.bin"), 300_000, 50);
        TestData.WriteRandomFile(Path.Combine(other, "shared.bin"), 64_000, 1000);
        Sources[(await repository.PushAsync(other, "other", new() { Step = 1 })).Id] = other;
        return repository;
    }

    public Task<Repository> OpenAsync(IObjectStore store) => Repository.OpenAsync(store, Options);

    /// <summary>
    /// Asserts that <c>check --read-data</c> finds no error and that every committed snapshot restores bit-identical
    /// to what was pushed; returns the check's warnings.
    /// </summary>
    public async Task<List<string>> AssertHealthyAsync(Repository repository, string because)
    {
        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.True(report.IsHealthy, $"{because}: {string.Join("; ", report.Errors)}");
        var snapshots = await repository.ListAllSnapshotsAsync();
        Assert.NotEmpty(snapshots);
        foreach (var snapshot in snapshots)
        {
            var target = temp.Combine("restored", Guid.NewGuid().ToString("N")[..8]);
            await repository.RestoreAsync(snapshot, target);
            TestData.AssertSameTree(Sources[snapshot.Id], target);
            Directory.Delete(target, recursive: true);
        }

        return report.Warnings;
    }

    /// <summary>The packs in the store and their total size.</summary>
    public static async Task<(int Count, long Bytes)> PacksAsync(IObjectStore store)
    {
        var packs = await store.ListAllAsync(RepositoryLayout.DataPrefix);
        return (packs.Count, packs.Sum(p => p.Size));
    }

    /// <summary>Forgets the in-flight records of a process that is gone, as another machine would after their timeout.</summary>
    public static async Task ForgetInFlightAsync(IObjectStore store)
    {
        foreach (var info in await store.ListAllAsync(InFlightMarker.Prefix))
        {
            await store.DeleteAsync(info.Key);
        }
    }
}
