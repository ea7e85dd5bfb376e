using Baton.Chunking;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage.Folder;
using Baton.Testing;
using Baton.Tests.Chunking;

namespace Baton.Tests.Snapshots;

public sealed class ArchiverTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task A_pushed_file_is_cut_exactly_where_the_chunker_cuts_the_whole_file()
    {
        // The reader hands the chunker a sliding window; the cuts must not depend on where the window starts.
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 5_000_000, 3);

        var snapshot = await repository.PushAsync(source, "r");

        var data = await File.ReadAllBytesAsync(Path.Combine(source, "weights.bin"));
        var expected = ChunkerProperties.Cut(new Chunker(repository.Config.Chunker), data)
            .Select(c => ContentId.Compute(data.AsSpan(c.Offset, c.Length)).ToString()).ToList();
        Assert.Equal(expected, snapshot.Manifest.Entries.Single(e => e.Path == "weights.bin").Chunks);
        Assert.True(expected.Count > 20);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4097)]
    public async Task A_file_without_natural_cuts_whose_forced_cuts_land_on_the_read_window_end_is_read_whole(int extra)
    {
        // Repeated bytes give the gear hash no cut: every chunk is cut at MaxSize, so the read window (twice MaxSize)
        // is used up exactly at a cut, which must lead to a refill rather than the end of the file.
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var max = repository.Config.Chunker.MaxSize;
        var source = _temp.Combine("src");
        Directory.CreateDirectory(source);
        var data = new byte[(5 * max) + extra];
        Array.Fill(data, (byte)7);
        await File.WriteAllBytesAsync(Path.Combine(source, "zeros.bin"), data);

        var snapshot = await repository.PushAsync(source, "r");

        var target = _temp.Combine("restored");
        await repository.RestoreAsync(snapshot, target);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(target, "zeros.bin")));
        var entry = snapshot.Manifest.Entries.Single(e => e.Path == "zeros.bin");
        Assert.Equal((long)data.Length, entry.Size);
        Assert.Equal((data.Length + max - 1) / max, entry.Chunks!.Count); // no natural cut: only forced ones
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_that_fails_pack_writes_fails_the_push_instead_of_hanging_it()
    {
        var store = new FailingPackStore(_temp.Combine("store"), successes: 1);
        var repository = await TestRepositories.CreateAsync(store);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 20_000_000, 4);

        var error = await Assert.ThrowsAsync<Baton.Storage.StoreException>(() => repository.PushAsync(source, "r"));

        Assert.Equal(Baton.Storage.StoreErrorReason.Full, error.Reason);
        Assert.Empty(await repository.ListSnapshotsAsync("r"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_cancelled_push_commits_nothing()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 20_000_000, 5);
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress<TransferProgress>(p =>
        {
            if (p.Bytes > 2_000_000)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => repository.PushAsync(source, "r", new PushOptions { Progress = progress }, cancel.Token));

        Assert.Empty(await repository.ListSnapshotsAsync("r"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_second_push_of_the_same_tree_reads_and_stores_nothing()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 3_000_000, 6);
        TestData.WriteRandomFile(Path.Combine(source, "sub", "b.bin"), 1_000_000, 7);

        var first = await repository.PushAsync(source, "r", new PushOptions { Step = 1 });
        var second = await repository.PushAsync(source, "r", new PushOptions { Step = 2 });

        Assert.Equal(4_000_000, first.Manifest.Stats.BytesRead);
        Assert.Equal(4_000_000, first.Manifest.Stats.BytesNew);
        Assert.Equal(0, second.Manifest.Stats.BytesRead);
        Assert.Equal(0, second.Manifest.Stats.BytesNew);
        Assert.Equal(0, second.Manifest.Stats.BytesStored);
        Assert.Equal(first.Id, second.Manifest.Parent);
        Assert.Equal(2, second.Sequence);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_supervisor_push_under_its_lease_reuses_the_unchanged_files_of_the_previous_checkpoint()
    {
        // What baton run's background pushes pass: its lease, the checkpoint's own files and their stamps.
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "ckpt", "model.bin"), 3_000_000, 20);
        TestData.WriteRandomFile(Path.Combine(source, "ckpt", "optimizer.bin"), 2_000_000, 21);
        TestData.WriteRandomFile(Path.Combine(source, "unrelated.log"), 1000, 22);
        await using var lease = await Baton.Leases.WriterLease.AcquireAsync(repository, "r", new Baton.Leases.LeaseOptions { Holder = "baton run" });
        PushOptions Options(long step) => new()
        {
            Step = step,
            Lease = lease,
            Include = ["ckpt/model.bin", "ckpt/optimizer.bin"],
            Expected = new[] { "ckpt/model.bin", "ckpt/optimizer.bin" }.ToDictionary(f => f, f =>
            {
                var info = new FileInfo(Path.Combine(source, f));
                return new FileStamp(info.Length, DirectoryScanner.MTimeOf(info));
            }),
            Workers = 1,
        };

        var first = await repository.PushAsync(source, "r", Options(1));
        TestData.WriteRandomFile(Path.Combine(source, "ckpt", "optimizer.bin"), 2_000_000, 23);
        var second = await repository.PushAsync(source, "r", Options(2));

        Assert.Equal(5_000_000, first.Manifest.Stats.BytesRead);
        Assert.Equal(2_000_000, second.Manifest.Stats.BytesRead);
        Assert.Equal(
            first.Manifest.Entries.Single(e => e.Path == "ckpt/model.bin").Chunks,
            second.Manifest.Entries.Single(e => e.Path == "ckpt/model.bin").Chunks);
        Assert.Equal(lease.Epoch, second.Manifest.Epoch);
    }

    [Fact(Timeout = 60_000)]
    public async Task Identical_content_under_another_name_or_run_is_read_but_not_stored_again()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 3_000_000, 8);
        await repository.PushAsync(source, "r");
        File.Copy(Path.Combine(source, "a.bin"), Path.Combine(source, "copy.bin"));

        var sameRun = await repository.PushAsync(source, "r");
        var otherRun = await repository.PushAsync(source, "other");

        Assert.Equal(3_000_000, sameRun.Manifest.Stats.BytesRead);
        Assert.Equal(0, sameRun.Manifest.Stats.BytesNew);
        Assert.Equal(6_000_000, otherRun.Manifest.Stats.BytesRead);
        Assert.Equal(0, otherRun.Manifest.Stats.BytesNew);
    }

    [Fact(Timeout = 60_000)]
    public async Task Each_push_is_the_next_snapshot_of_its_run()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 1000, 9);

        for (var i = 1; i <= 3; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(source, "step.txt"), $"{i}");
            await repository.PushAsync(source, "r", new PushOptions { Step = i * 100 });
        }

        await repository.PushAsync(source, "s");
        var snapshots = await repository.ListSnapshotsAsync("r");
        Assert.Equal([1L, 2L, 3L], snapshots.Select(s => s.Sequence));
        Assert.Equal([100L, 200L, 300L], snapshots.Select(s => s.Manifest.Step!.Value));
        Assert.Equal(["r", "s"], await repository.ListRunsAsync());
        Assert.Equal(200, (await repository.FindSnapshotAsync("r", step: 200))!.Manifest.Step);
        Assert.Equal(3, (await repository.FindSnapshotAsync("r"))!.Sequence);
        Assert.Null(await repository.FindSnapshotAsync("r", step: 999));
        Assert.Equal(snapshots[0].Id, (await repository.FindSnapshotAsync(null, id: snapshots[0].Id[..8]))!.Id);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_link_that_restore_would_refuse_is_refused_at_push_time()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "a"), "a");
        File.CreateSymbolicLink(Path.Combine(source, "passwd"), "/etc/passwd");

        var error = await Assert.ThrowsAsync<UsageException>(() => repository.PushAsync(source, "r"));

        Assert.Contains("'passwd'", error.Message, StringComparison.Ordinal);
        Assert.Empty(await repository.ListSnapshotsAsync("r"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Two_pushers_racing_for_the_same_sequence_number_have_one_winner_and_one_conflict()
    {
        var path = _temp.Combine("store");
        await TestRepositories.CreateAsync(path);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 2_000_000, 10);
        var first = await Repository.OpenAsync(new FolderStore(path));
        var second = await Repository.OpenAsync(new FolderStore(path));

        // Both read the same history (no snapshot yet); whichever commits second must not overwrite the first.
        var results = await Task.WhenAll(Try(first.PushAsync(source, "r")), Try(second.PushAsync(source, "r")));

        var snapshots = await first.ListSnapshotsAsync("r");
        Assert.Equal(results.Count(r => r is null), snapshots.Count);
        Assert.All(results.Where(r => r is not null), r => Assert.IsType<ConflictException>(r));
    }

    private static async Task<Exception?> Try(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    public void Dispose() => _temp.Dispose();
}
