using Baton.Checking;
using Baton.Compression;
using Baton.Packs;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Testing;

namespace Baton.Tests.Checking;

public sealed class CheckerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task A_healthy_repository_has_no_errors_and_no_warnings_even_when_every_byte_is_read()
    {
        var (repository, _) = await PushedAsync();

        var report = await new Checker(repository).CheckAsync(readData: true);

        Assert.True(report.IsHealthy, string.Join("; ", report.Errors));
        Assert.Empty(report.Warnings);
        Assert.Equal(1, report.Snapshots);
        Assert.True(report.Packs > 1);
        Assert.Equal(Directory.EnumerateFiles(_temp.Combine("store", "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length), report.BytesVerified);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pack_left_without_an_index_by_an_interrupted_push_is_a_warning_not_an_error()
    {
        var (repository, _) = await PushedAsync();
        using var builder = new PackBuilder(1024);
        builder.Add(ContentId.Compute("orphan"u8), BlobCodec.None, "orphan"u8, 6);
        using var orphan = builder.Seal();
        await repository.Store.PutAsync(PackFormat.KeyOf(orphan.Id), orphan.Bytes, PutMode.Overwrite);

        var report = await new Checker(repository).CheckAsync(readData: true);

        Assert.True(report.IsHealthy, string.Join("; ", report.Errors));
        var warning = Assert.Single(report.Warnings);
        Assert.Contains(PackFormat.KeyOf(orphan.Id), warning, StringComparison.Ordinal);
        Assert.Contains("not indexed", warning, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_pack_is_an_error_naming_it()
    {
        var (repository, pack) = await PushedAsync();
        await repository.Store.DeleteAsync(pack);

        var report = await new Checker(repository).CheckAsync(readData: false);

        Assert.False(report.IsHealthy);
        Assert.Contains(report.Errors, e => e.Contains(pack, StringComparison.Ordinal) && e.Contains("missing", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_flipped_bit_in_a_pack_is_found_by_reading_the_data_and_named()
    {
        var (repository, pack) = await PushedAsync();
        var path = _temp.Combine("store", pack);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[PackFormat.Magic.Length + 10] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);

        var structural = await new Checker(repository).CheckAsync(readData: false);
        var full = await new Checker(repository).CheckAsync(readData: true);

        Assert.True(structural.IsHealthy); // sizes and names are intact: only reading the bytes can tell
        Assert.False(full.IsHealthy);
        Assert.All(full.Errors, e => Assert.Contains(pack, e, StringComparison.Ordinal));
        Assert.Contains(full.Errors, e => e.Contains("corrupt", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_flipped_bit_in_a_pack_header_is_found_as_a_header_that_does_not_match_the_pack_name()
    {
        var (repository, pack) = await PushedAsync();
        var path = _temp.Combine("store", pack);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^(PackFormat.TrailerSize + PackFormat.RecordSize - 2)] ^= 0x01; // a length in the last header record
        await File.WriteAllBytesAsync(path, bytes);

        var full = await new Checker(repository).CheckAsync(readData: true);

        var error = Assert.Single(full.Errors);
        Assert.Contains(pack, error, StringComparison.Ordinal);
        Assert.Contains("header does not match its name", error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_truncated_pack_is_an_error()
    {
        var (repository, pack) = await PushedAsync();
        var path = _temp.Combine("store", pack);
        await using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(stream.Length - 100);
        }

        var report = await new Checker(repository).CheckAsync(readData: true);

        Assert.Contains(report.Errors, e => e.Contains(pack, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Corrupt_index_and_manifest_objects_are_errors_naming_them()
    {
        var (repository, _) = await PushedAsync();
        var index = (await repository.Store.ListAllAsync("index/")).Single().Key;
        var manifest = RepositoryLayout.SnapshotKey("r", 1);
        foreach (var key in new[] { index, manifest })
        {
            var path = _temp.Combine("store", key);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[^1] ^= 0x40;
            await File.WriteAllBytesAsync(path, bytes);
        }

        var report = await new Checker(repository).CheckAsync(readData: false);

        Assert.Contains(report.Errors, e => e.Contains(index, StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e.Contains(manifest, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_snapshot_that_names_an_unindexed_chunk_or_escapes_its_target_is_an_error()
    {
        var (repository, _) = await PushedAsync();
        var missing = ContentId.Compute("never stored"u8).ToString();
        await repository.CommitAsync(new SnapshotManifest
        {
            Run = "crafted",
            Sequence = 1,
            Entries = [new SnapshotEntry { Path = "f", Kind = EntryKind.File, Size = 12, Chunks = [missing] }],
        }, default);

        // A manifest is refused whole at its first problem, so the escaping link gets a manifest of its own.
        await repository.CommitAsync(new SnapshotManifest
        {
            Run = "escaping",
            Sequence = 1,
            Entries = [new SnapshotEntry { Path = "l", Kind = EntryKind.Link, Target = "../../etc" }],
        }, default);

        var report = await new Checker(repository).CheckAsync(readData: false);

        Assert.Contains(report.Errors, e => e.Contains(missing, StringComparison.Ordinal) && e.Contains("'f'", StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e.Contains("'l'", StringComparison.Ordinal) && e.Contains("outside", StringComparison.Ordinal));
    }

    private async Task<(Repository Repository, string PackKey)> PushedAsync()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "b", "c.bin"), 10_000, 2);
        await repository.PushAsync(source, "r");
        var pack = (await repository.Store.ListAllAsync("data/")).OrderBy(p => p.Key, StringComparer.Ordinal).First().Key;
        return (repository, pack);
    }

    public void Dispose() => _temp.Dispose();
}
