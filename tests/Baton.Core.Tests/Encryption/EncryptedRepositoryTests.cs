using System.Text;
using System.Text.Json;
using Baton.Checking;
using Baton.Encryption;
using Baton.Leases;
using Baton.Maintenance;
using Baton.Packs;
using Baton.Repositories;
using Baton.Retention;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Encryption;

public sealed class EncryptedRepositoryTests : IDisposable
{
    private const string Marker = "ZEBRA-MARKER-7f3a";
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Push_restore_check_and_prune_round_trip_in_an_encrypted_repository()
    {
        var (repository, store) = await InitAsync();
        var source = _temp.Combine("src");
        for (var step = 1; step <= 3; step++)
        {
            TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 700_000, step);
            File.WriteAllText(Path.Combine(source, "config.json"), "{\"lr\": 0.001}");
            await repository.PushAsync(source, "r", new() { Step = step });
        }

        var reopened = await Repository.OpenAsync(store, TestKeys.Encrypted());
        var restored = _temp.Combine("dst");
        await reopened.RestoreAsync((await reopened.FindSnapshotAsync("r"))!, restored);
        TestData.AssertSameTree(source, restored);

        var pruned = await new Pruner(reopened).PruneAsync("r", new RetentionPolicy { KeepLast = 1 });
        Assert.Equal(2, pruned.Removed.Count());
        Assert.True(pruned.Collection.PacksDeleted > 0);
        var report = await new Checker(reopened).CheckAsync(readData: true);
        Assert.True(report.IsHealthy, string.Join("\n", report.Errors));
        Assert.Empty(report.Warnings);
        Assert.True(report.BytesVerified > 0);
    }

    [Fact(Timeout = 120_000)]
    public async Task No_plaintext_of_contents_paths_run_names_or_tags_reaches_the_store()
    {
        var (repository, store) = await InitAsync();
        var source = _temp.Combine("src");
        var text = string.Concat(Enumerable.Repeat($"{Marker} in the contents; ", 20_000));
        Directory.CreateDirectory(Path.Combine(source, $"dir-{Marker}"));
        File.WriteAllText(Path.Combine(source, $"dir-{Marker}", $"{Marker}.txt"), text);
        File.WriteAllText(Path.Combine(source, "small.txt"), Marker);
        File.CreateSymbolicLink(Path.Combine(source, "link"), $"dir-{Marker}/{Marker}.txt");
        var run = $"run-{Marker}";
        var snapshot = await repository.PushAsync(source, run, new() { Step = 1, Labels = new Dictionary<string, string> { ["note"] = Marker } });
        await new SnapshotTags(repository).TagAsync(snapshot, $"tag-{Marker}");
        await using (await WriterLease.AcquireAsync(repository, run))
        await using (await InFlightMarker.BeginAsync(repository, run))
        {
            AssertNoMarker(store.Location);
        }

        AssertNoMarker(store.Location);
        Assert.Equal([run], await repository.ListRunsAsync());
        Assert.Equal($"tag-{Marker}", Assert.Single(await new SnapshotTags(repository).ListAsync(run)).Name);
    }

    [Fact(Timeout = 60_000)]
    public async Task Identical_content_is_stored_once_and_its_id_is_not_its_sha256()
    {
        var (repository, store) = await InitAsync();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 200_000, 9);
        var first = await repository.PushAsync(source, "r");
        var second = await repository.PushAsync(source, "other");

        Assert.True(first.Manifest.Stats.BytesNew > 0);
        Assert.Equal(0, second.Manifest.Stats.BytesNew);
        var plainIds = first.Manifest.Entries.SelectMany(e => e.Chunks ?? []).ToHashSet();
        var bytes = await File.ReadAllBytesAsync(Path.Combine(source, "a.bin"));
        Assert.DoesNotContain(ContentId.Compute(bytes).ToString(), plainIds);
        Assert.NotEmpty(await store.ListAllAsync("data/"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_flipped_bit_in_a_sealed_chunk_fails_restore_and_check_with_integrity_errors()
    {
        var (repository, store) = await InitAsync();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 100_000, 3);
        var snapshot = await repository.PushAsync(source, "r");
        var pack = Assert.Single(await store.ListAllAsync("data/"));
        await FlipBitAsync(store, pack.Key, 100);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.RestoreAsync(snapshot, _temp.Combine("dst")));
        Assert.Contains("authentication failed", error.Message, StringComparison.Ordinal);
        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.False(report.IsHealthy);
        Assert.False(Directory.Exists(_temp.Combine("dst", "a.bin")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_flipped_bit_in_a_sealed_pack_header_is_found_by_check()
    {
        var (repository, store) = await InitAsync();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 100_000, 4);
        await repository.PushAsync(source, "r");
        var pack = Assert.Single(await store.ListAllAsync("data/"));
        await FlipBitAsync(store, pack.Key, (int)pack.Size - PackFormat.TrailerSize - 20);

        var report = await new Checker(repository).CheckAsync(readData: true);
        Assert.Contains(report.Errors, e => e.Contains("header does not match its name", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_flipped_bit_in_a_sealed_manifest_or_index_is_an_integrity_error()
    {
        var (repository, store) = await InitAsync();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 50_000, 5);
        await repository.PushAsync(source, "r");
        var manifest = repository.SnapshotKey("r", 1);
        await FlipBitAsync(store, manifest, 60);
        await Assert.ThrowsAsync<IntegrityException>(() => repository.ReadSnapshotAsync(manifest));

        var index = Assert.Single(await store.ListAllAsync("index/")).Key;
        await FlipBitAsync(store, index, 70);
        await Assert.ThrowsAsync<IntegrityException>(() => repository.ReadIndexFileAsync(index));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_forged_unsealed_manifest_is_refused_even_with_a_valid_checksum()
    {
        var (repository, store) = await InitAsync();
        var forged = new SnapshotManifest { Run = "r", Sequence = 1, Entries = [new SnapshotEntry { Path = "evil", Kind = EntryKind.File }] };
        var data = MetadataEnvelope.Wrap(JsonSerializer.SerializeToUtf8Bytes(forged, BatonJson.Default.SnapshotManifest));
        await store.PutAsync(repository.SnapshotKey("r", 1), data, PutMode.CreateNew);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.ListSnapshotsAsync("r"));
        Assert.Contains("not sealed", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unencrypted_repository_keeps_the_plain_format()
    {
        var store = new FolderStore(_temp.Combine("plain"));
        var repository = await Repository.InitAsync(store, TestKeys.Options(null));
        var source = _temp.Combine("src");
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(source).FullName, "f.txt"), Marker);
        var snapshot = await repository.PushAsync(source, "r");

        Assert.Same(PlaintextCipher.Instance, repository.Cipher);
        Assert.Null(repository.Config.Encryption);
        Assert.Equal("sha256", repository.Config.Hash);
        Assert.Equal(ContentId.Compute(Encoding.UTF8.GetBytes(Marker)).ToString(), Assert.Single(snapshot.Manifest.Entries).Chunks![0]);
        Assert.NotNull(await store.StatAsync(RepositoryLayout.SnapshotKey("r", 1)));
        Assert.Empty(await store.ListAllAsync("keys/"));
    }

    private async Task<(Repository Repository, IObjectStore Store)> InitAsync()
    {
        var store = new FolderStore(_temp.Combine("store"));
        return (await Repository.InitAsync(store, TestKeys.Encrypted()), store);
    }

    private static async Task FlipBitAsync(IObjectStore store, string key, int offset)
    {
        var data = await store.ReadAllAsync(key);
        data[offset] ^= 0x10;
        await store.PutAsync(key, data, PutMode.Overwrite);
    }

    // Every object key and every byte of every object under the store's folder.
    private static void AssertNoMarker(string root)
    {
        var needle = Encoding.UTF8.GetBytes(Marker);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(Marker, Path.GetRelativePath(root, file), StringComparison.Ordinal);
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"'{Path.GetRelativePath(root, file)}' holds the marker in plaintext");
        }
    }

    public void Dispose() => _temp.Dispose();
}
