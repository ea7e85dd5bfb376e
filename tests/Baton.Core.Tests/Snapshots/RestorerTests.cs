using Baton.Maintenance;
using Baton.Packs;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
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
    public async Task A_link_to_elsewhere_in_an_overwritten_target_is_replaced_and_never_followed()
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

        await repository.RestoreAsync(snapshot, target, new RestoreOptions { Overwrite = true });

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Null(new DirectoryInfo(Path.Combine(target, "ckpt")).LinkTarget);
        TestData.AssertSameTree(source, target);
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

        await repository.RestoreAsync(snapshot, target, new RestoreOptions { Overwrite = true });

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
        await repository.RestoreAsync(snapshot, target, new RestoreOptions { Overwrite = true }); // again, over the links it made

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

        var error = await Assert.ThrowsAsync<ConflictException>(() => repository.RestoreAsync(snapshot, target, new RestoreOptions { Overwrite = true }));

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

    [Fact(Timeout = 60_000)]
    public async Task A_target_that_holds_files_is_refused_without_overwrite_and_left_as_it_was()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var snapshot = await PushOneFileAsync(repository, "r");
        var target = _temp.Combine("target");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "step_900.pt"), "a stale newer checkpoint");

        var error = await Assert.ThrowsAsync<UsageException>(() => repository.RestoreAsync(snapshot, target));

        Assert.Contains($"'{target}' is not empty", error.Message, StringComparison.Ordinal);
        Assert.Contains("--overwrite", error.Message, StringComparison.Ordinal);
        Assert.Equal(["step_900.pt"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName));
        Assert.Equal(["store", "target"], Directory.EnumerateFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_overwritten_target_becomes_exactly_the_snapshot_and_keeps_its_permissions()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "step_500.pt"), 200_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "logs", "events.bin"), 1000, 2);
        var snapshot = await repository.PushAsync(source, "r");
        var target = _temp.Combine("target");
        TestData.WriteRandomFile(Path.Combine(target, "step_900.pt"), 1000, 3);
        TestData.WriteRandomFile(Path.Combine(target, "step_500.pt"), 1000, 4);
        TestData.WriteRandomFile(Path.Combine(target, "logs", "old.bin"), 1000, 5);
        TestData.WriteRandomFile(Path.Combine(target, "extra", "deep", "x.bin"), 1000, 6);
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await repository.RestoreAsync(snapshot, target, new RestoreOptions { Overwrite = true });

        Assert.Equal(Tree(source), Tree(target));
        TestData.AssertSameTree(source, target);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(target));
        Assert.Equal(["src", "store", "target"], Directory.EnumerateFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Keeping_the_previous_content_moves_it_into_baton_previous_where_no_scan_reads_it()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "step_500.pt"), 200_000, 1);
        var snapshot = await repository.PushAsync(source, "r");
        var target = _temp.Combine("target");
        TestData.WriteRandomFile(Path.Combine(target, "step_900.pt"), 1000, 3);

        await repository.RestoreAsync(snapshot, target, new RestoreOptions { Overwrite = true, KeepPrevious = true });
        await repository.RestoreAsync(snapshot, target, new RestoreOptions { Overwrite = true, KeepPrevious = true });

        Assert.Equal(Tree(source), Tree(target));
        Assert.Equal(["step_500.pt"], Tree(Path.Combine(target, ".baton-previous"))); // only the latest previous content
        var first = new FileInfo(Path.Combine(target, "step_500.pt"));
        Assert.Equal(new FileInfo(Path.Combine(source, "step_500.pt")).Length, first.Length);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("aside", 0)]
    [InlineData("aside", 2)]
    [InlineData("in", 0)]
    [InlineData("in", 3)]
    public async Task A_journaled_switch_cut_short_is_finished_by_recovery(string phase, int moved)
    {
        await Task.Yield();
        // The state a kill leaves in the journaled mode (a target that is a mount point): old entries partly moved
        // aside, or new entries partly moved in.
        var target = _temp.Combine("target");
        var staging = Path.Combine(target, ".baton-restore-0123456789ab");
        var aside = Path.Combine(target, ".baton-restore-old-0123456789ab");
        string[] olds = ["step_900.pt", "a", "b", "c"];
        string[] news = ["step_500.pt", "n1", "n2", "n3", "n4"];
        foreach (var (name, i) in olds.Select((n, i) => (n, i)))
        {
            TestData.WriteRandomFile(Path.Combine(phase == "aside" && i < moved ? aside : phase == "in" ? aside : target, name), 10, i);
        }

        foreach (var (name, i) in news.Select((n, i) => (n, i)))
        {
            TestData.WriteRandomFile(Path.Combine(phase == "in" && i < moved ? target : staging, name), 10, 100 + i);
        }

        File.WriteAllText(Path.Combine(target, ".baton-restore-journal"), $"{phase}\n{staging}\n{aside}\nremove\n");

        RestoreSwitch.Recover(target);

        Assert.Equal(news.Order(StringComparer.Ordinal), Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_journaled_switch_makes_the_target_exactly_the_staged_tree()
    {
        await Task.Yield();
        var target = _temp.Combine("target");
        TestData.WriteRandomFile(Path.Combine(target, "old.bin"), 10, 1);
        TestData.WriteRandomFile(Path.Combine(target, "dir", "old.bin"), 10, 2);
        var staging = Path.Combine(target, ".baton-restore-0123456789ab");
        TestData.WriteRandomFile(Path.Combine(staging, "new.bin"), 10, 3);
        TestData.WriteRandomFile(Path.Combine(staging, "dir", "new.bin"), 10, 4);

        RestoreSwitch.Switch(target, staging, keepPrevious: false);

        Assert.Equal(["dir", "dir/new.bin", "new.bin"], Tree(target));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_restore_racing_a_prune_that_repacks_its_packs_reloads_the_index_and_succeeds()
    {
        var scenario = new Maintenance.RepackScenario(_temp, encrypted: false);
        var store = _temp.Combine("store");
        var repository = await scenario.CreateAsync(store);
        PruneResult? pruned = null;
        var racing = new PruneBeforeFirstPackRead(new FolderStore(store), async () => pruned = await new Pruner(repository).PruneAsync("r", Maintenance.RepackScenario.KeepLast));
        var reader = await scenario.OpenAsync(racing);
        var other = (await reader.FindSnapshotAsync("other"))!;
        var target = _temp.Combine("target");

        await reader.RestoreAsync(other, target);

        Assert.True(pruned!.Collection.PacksRepacked > 0, "the prune repacked nothing: the race was not run");
        Assert.True(racing.Missing > 0, "no pack read failed: the restore did not read a repacked pack");
        TestData.AssertSameTree(scenario.Sources[other.Id], target);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pack_the_index_still_names_but_the_store_lost_is_an_integrity_error()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var snapshot = await PushOneFileAsync(repository, "r");
        foreach (var pack in await repository.Store.ListAllAsync("data/"))
        {
            await repository.Store.DeleteAsync(pack.Key);
        }

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.RestoreAsync(snapshot, _temp.Combine("target")));

        Assert.Contains("missing or short", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Chunks_that_lie_back_to_back_in_a_pack_are_read_with_one_request_per_pack()
    {
        var (counting, repository, source, snapshot) = await PushThroughCountingReadsAsync(truncateFirst: false, seed: 11);
        var chunks = snapshot.Manifest.Entries.Single(e => e.Kind == EntryKind.File).Chunks!.Count;
        var packs = (await repository.Store.ListAllAsync("data/")).Count;

        await repository.RestoreAsync(snapshot, _temp.Combine("target"));

        TestData.AssertSameTree(source, _temp.Combine("target"));
        Assert.True(chunks > 3 * packs, $"{chunks} chunks in {packs} packs: too few chunks per pack to show anything");
        Assert.InRange(counting.DataReads, 1, packs);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_of_a_run_that_ends_early_is_an_integrity_error_and_the_target_is_left_alone()
    {
        var (_, repository, _, snapshot) = await PushThroughCountingReadsAsync(truncateFirst: true, seed: 12);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.RestoreAsync(snapshot, _temp.Combine("target")));

        Assert.Contains("missing or short", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_temp.Combine("target"), "weights.bin")), "a failed restore left a file in its target");
    }

    // A 3 MB file pushed through a store that counts (and may cut) pack reads; the counts start after the push.
    private async Task<(CountingReads Counting, Repository Repository, string Source, Snapshot Snapshot)> PushThroughCountingReadsAsync(bool truncateFirst, int seed)
    {
        var counting = new CountingReads(new FolderStore(_temp.Combine("store")), truncateFirst);
        var repository = await TestRepositories.CreateAsync(counting);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 3_000_000, seed);
        var snapshot = await repository.PushAsync(source, "r");
        counting.Reset();
        return (counting, repository, source, snapshot);
    }

    private static List<string> Tree(string root) => Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
        .Select(e => Path.GetRelativePath(root, e)).Where(e => !e.StartsWith(".baton-", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal).ToList();

    /// <summary>Counts reads of packs; optionally cuts the first one in half, as a dropped connection would.</summary>
    private sealed class CountingReads(IObjectStore inner, bool truncateFirst) : ObjectStoreDecorator(inner)
    {
        private int _dataReads;

        public int DataReads => Volatile.Read(ref _dataReads);

        public void Reset() => Volatile.Write(ref _dataReads, 0);

        public override async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
        {
            var stream = await Inner.OpenReadAsync(key, offset, length, cancellationToken);
            if (!key.StartsWith("data/", StringComparison.Ordinal))
            {
                return stream;
            }

            if (Interlocked.Increment(ref _dataReads) == 1 && truncateFirst)
            {
                var cut = (int)(length / 2);
                await using (stream)
                {
                    var head = new byte[cut];
                    var read = await stream.ReadAtLeastAsync(head, cut, throwOnEndOfStream: false, cancellationToken);
                    return new MemoryStream(head, 0, read, writable: false);
                }
            }

            return stream;
        }
    }

    /// <summary>Runs a prune before the restore's first pack read; every read waits for it, as a slow reader would.</summary>
    private sealed class PruneBeforeFirstPackRead(IObjectStore inner, Func<Task> prune) : ObjectStoreDecorator(inner)
    {
        private readonly Lazy<Task> _pruned = new(prune);
        private int _missing;

        public int Missing => Volatile.Read(ref _missing);

        public override async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
        {
            if (key.StartsWith("data/", StringComparison.Ordinal))
            {
                await _pruned.Value;
            }

            try
            {
                return await Inner.OpenReadAsync(key, offset, length, cancellationToken);
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
            {
                Interlocked.Increment(ref _missing);
                throw;
            }
        }
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
