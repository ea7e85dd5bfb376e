using Baton.Packs;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Testing;

namespace Baton.Tests.Snapshots;

public sealed class RestorerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public static TheoryData<string> Escapes => new()
    {
        "file ../x", "file absolute", "file a/../../x", "link absolute", "link ../outside", "link a/../../outside",
        "link through a link to the root", "link loop", "file below a link", "directory ../outside",
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Escapes))]
    public async Task A_manifest_that_would_write_or_point_outside_the_target_is_refused_before_anything_is_written(string escape)
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var outside = _temp.Combine("outside");
        Directory.CreateDirectory(outside);
        var real = await PushOneFileAsync(repository, "real");
        var file = real.Manifest.Entries.Single(e => e.Kind == EntryKind.File);
        SnapshotEntry File(string path) => file with { Path = path };
        static SnapshotEntry Link(string path, string target) => new() { Path = path, Kind = EntryKind.Link, Target = target };
        List<SnapshotEntry> entries = escape switch
        {
            "file ../x" => [File("../x")],
            "file absolute" => [File(Path.Combine(outside, "x"))],
            "file a/../../x" => [new SnapshotEntry { Path = "a", Kind = EntryKind.Directory }, File("a/../../x")],
            "link absolute" => [Link("l", Path.Combine(outside, "x"))],
            "link ../outside" => [Link("l", "../outside")],
            "link a/../../outside" => [new SnapshotEntry { Path = "a", Kind = EntryKind.Directory }, Link("a/l", "../../outside")],
            "link through a link to the root" => [Link("s", "."), Link("t", "s/../outside")],
            "link loop" => [Link("a", "b"), Link("b", "a")],
            "file below a link" => [Link("d", "."), File("d/x")],
            "directory ../outside" => [new SnapshotEntry { Path = "../outside/d", Kind = EntryKind.Directory }],
            _ => throw new ArgumentOutOfRangeException(nameof(escape)),
        };
        var crafted = await repository.CommitAsync(new SnapshotManifest { Run = "crafted", Sequence = 1, Entries = entries }, default);
        var target = _temp.Combine("target");

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.RestoreAsync(crafted, target));

        Assert.Contains(crafted.Id, error.Message, StringComparison.Ordinal);
        Assert.Contains("refusing", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.False(Directory.Exists(target), "the target was created although the snapshot was refused");
        Assert.Equal(["outside", "store"], Directory.EnumerateFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_target_whose_folder_is_a_link_to_elsewhere_is_refused_and_left_untouched()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "top.bin"), 1000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "ckpt", "model.bin"), 300_000, 2);
        var snapshot = await repository.PushAsync(source, "r");
        var outside = _temp.Combine("outside");
        Directory.CreateDirectory(outside);
        var target = _temp.Combine("target");
        Directory.CreateDirectory(target);
        Directory.CreateSymbolicLink(Path.Combine(target, "ckpt"), outside);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.RestoreAsync(snapshot, target));

        Assert.Contains("'ckpt' in the target is a symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal(["ckpt"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_link_in_the_target_where_the_snapshot_has_a_directory_is_replaced_not_followed()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        Directory.CreateDirectory(Path.Combine(source, "empty"));
        File.SetUnixFileMode(Path.Combine(source, "empty"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var snapshot = await repository.PushAsync(source, "r");
        var outside = _temp.Combine("outside");
        Directory.CreateDirectory(outside);
        var before = File.GetUnixFileMode(outside);
        var target = _temp.Combine("target");
        Directory.CreateDirectory(target);
        Directory.CreateSymbolicLink(Path.Combine(target, "empty"), outside);

        await repository.RestoreAsync(snapshot, target);

        Assert.Null(new DirectoryInfo(Path.Combine(target, "empty")).LinkTarget);
        Assert.Equal(before, File.GetUnixFileMode(outside));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(target, "empty")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Links_inside_the_tree_come_back_as_links()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "checkpoint-500", "model.bin"), 1000, 3);
        File.CreateSymbolicLink(Path.Combine(source, "latest"), "checkpoint-500");
        File.CreateSymbolicLink(Path.Combine(source, "checkpoint-500", "weights"), "model.bin");
        var snapshot = await repository.PushAsync(source, "r");
        var target = _temp.Combine("target");

        await repository.RestoreAsync(snapshot, target);
        await repository.RestoreAsync(snapshot, target); // again, over the links it made

        Assert.Equal("checkpoint-500", new FileInfo(Path.Combine(target, "latest")).LinkTarget);
        Assert.Equal("model.bin", new FileInfo(Path.Combine(target, "checkpoint-500", "weights")).LinkTarget);
        TestData.AssertSameTree(source, target);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_corrupt_chunk_fails_the_restore_naming_snapshot_file_and_pack_and_leaves_no_file_behind()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 200_000, 4);
        TestData.WriteRandomFile(Path.Combine(source, "b.bin"), 200_000, 5);
        var snapshot = await repository.PushAsync(source, "r");
        var chunk = ContentId.Parse(snapshot.Manifest.Entries.Single(e => e.Path == "b.bin").Chunks![0]);
        (await repository.LoadIndexAsync()).TryGet(chunk, out var location);
        var pack = _temp.Combine("store", PackFormat.KeyOf(location.PackId));
        var bytes = await File.ReadAllBytesAsync(pack);
        bytes[location.Entry.Offset + (location.Entry.Length / 2)] ^= 0x10;
        await File.WriteAllBytesAsync(pack, bytes);
        var target = _temp.Combine("target");

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.RestoreAsync(snapshot, target));

        Assert.Contains(snapshot.Id, error.Message, StringComparison.Ordinal);
        Assert.Contains("'b.bin'", error.Message, StringComparison.Ordinal);
        Assert.Contains(PackFormat.KeyOf(location.PackId), error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target, "*", SearchOption.AllDirectories));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_chunk_missing_from_the_index_fails_before_anything_is_written()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var real = await PushOneFileAsync(repository, "real");
        var file = real.Manifest.Entries.Single(e => e.Kind == EntryKind.File);
        var missing = ContentId.Compute("not stored"u8).ToString();
        var crafted = await repository.CommitAsync(new SnapshotManifest
        {
            Run = "crafted",
            Sequence = 1,
            Entries = [file with { Path = "x.bin", Chunks = [.. file.Chunks!, missing] }],
        }, default);
        var target = _temp.Combine("target");

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.RestoreAsync(crafted, target));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("'x.bin'", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target, "*", SearchOption.AllDirectories));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_snapshot_pruned_while_it_is_restored_is_a_conflict_that_leaves_the_target_as_it_was(bool indexGoneToo)
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var snapshot = await PushOneFileAsync(repository, "r");
        var target = _temp.Combine("target");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "f.bin"), "the old checkpoint");

        // What a prune that forgot the snapshot leaves once the restore has read its manifest: no manifest, no packs,
        // and, once the collection has finished, no index entries either.
        await repository.Store.DeleteAsync(repository.SnapshotKey("r", snapshot.Sequence));
        foreach (var prefix in indexGoneToo ? new[] { "data/", "index/" } : ["data/"])
        {
            foreach (var item in await repository.Store.ListAllAsync(prefix))
            {
                await repository.Store.DeleteAsync(item.Key);
            }
        }

        var error = await Assert.ThrowsAsync<ConflictException>(() => repository.RestoreAsync(snapshot, target));

        Assert.Contains("was removed by a prune while it was being restored", error.Message, StringComparison.Ordinal);
        Assert.Equal("the old checkpoint", await File.ReadAllTextAsync(Path.Combine(target, "f.bin")));
        Assert.Single(Directory.EnumerateFileSystemEntries(target));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_whose_chunks_do_not_add_up_to_its_size_is_refused()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var real = await PushOneFileAsync(repository, "real");
        var file = real.Manifest.Entries.Single(e => e.Kind == EntryKind.File);
        var crafted = await repository.CommitAsync(new SnapshotManifest
        {
            Run = "crafted",
            Sequence = 1,
            Entries = [file with { Size = file.Size + 1 }],
        }, default);
        var target = _temp.Combine("target");

        await Assert.ThrowsAsync<IntegrityException>(() => repository.RestoreAsync(crafted, target));

        Assert.Empty(Directory.EnumerateFileSystemEntries(target, "*", SearchOption.AllDirectories));
    }

    private async Task<Snapshot> PushOneFileAsync(Repository repository, string run)
    {
        var source = _temp.Combine("one-" + run);
        TestData.WriteRandomFile(Path.Combine(source, "f.bin"), 100_000, 6);
        var snapshot = await repository.PushAsync(source, run);
        Directory.Delete(source, recursive: true);
        return snapshot;
    }

    public void Dispose() => _temp.Dispose();
}
