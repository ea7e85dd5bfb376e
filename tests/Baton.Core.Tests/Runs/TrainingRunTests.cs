using Baton.Runs;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Runs;

public sealed class TrainingRunTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task A_new_run_restores_nothing_and_a_snapshot_restores_on_another_machine()
    {
        var store = new FolderStore(_temp.Combine("store"));
        var checkpoints = _temp.Combine("ckpt");
        TestData.WriteRandomFile(Path.Combine(checkpoints, "w.bin"), 100_000, 1);
        await using (var run = await TrainingRun.OpenAsync(store, "r"))
        {
            Assert.Null(await run.RestoreLatestAsync(_temp.Combine("nothing")));
            Assert.Equal(7, (await run.SnapshotAsync(checkpoints, 7)).Manifest.Step);
        }

        await using var again = await TrainingRun.OpenAsync(store, "r");
        var restored = await again.RestoreLatestAsync(_temp.Combine("machine-2"));
        Assert.Equal(7, restored!.Manifest.Step);
        TestData.AssertSameTree(checkpoints, _temp.Combine("machine-2"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Background_snapshots_keep_only_the_newest_waiting_request()
    {
        var store = new FolderStore(_temp.Combine("store"));
        await using var run = await TrainingRun.OpenAsync(store, "r");
        var tasks = new List<Task<Baton.Repositories.Snapshot?>>();
        for (var step = 1; step <= 20; step++)
        {
            TestData.WriteRandomFile(Path.Combine(_temp.Combine($"ckpt-{step}"), "w.bin"), 2_000_000, step);
        }

        // All twenty requests arrive while the first push runs, however fast the machine pushes.
        for (var step = 1; step <= 20; step++)
        {
            tasks.Add(run.SnapshotInBackground(_temp.Combine($"ckpt-{step}"), step));
        }

        await run.FlushAsync();
        var results = await Task.WhenAll(tasks);

        Assert.Equal(20, results[^1]!.Manifest.Step);
        Assert.Contains(results, r => r is null); // requests replaced while waiting
        var committed = (await run.ListAsync()).Select(s => s.Manifest.Step!.Value).ToList();
        Assert.Equal(results.Where(r => r is not null).Select(r => r!.Manifest.Step!.Value).Order(), committed);
        Assert.True(committed.Count < 20);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_second_training_run_on_the_same_run_is_refused_while_the_first_lives()
    {
        var store = new FolderStore(_temp.Combine("store"));
        await using var first = await TrainingRun.OpenAsync(store, "r");
        await Assert.ThrowsAsync<ConflictException>(() => TrainingRun.OpenAsync(new FolderStore(_temp.Combine("store")), "r",
            new TrainingRunOptions { Repository = new() { HostName = "another-machine" } }));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_background_snapshot_that_fails_on_the_store_is_retried_until_it_is_committed()
    {
        var store = new FlakyPackStore(new FolderStore(_temp.Combine("store")));
        await using var run = await TrainingRun.OpenAsync(store, "r", new TrainingRunOptions { Repository = TestRepositories.Small });
        var checkpoints = _temp.Combine("ckpt");
        TestData.WriteRandomFile(Path.Combine(checkpoints, "w.bin"), 300_000, 1);
        store.FailNext(2);

        var snapshot = await run.SnapshotInBackground(checkpoints, 1);

        Assert.Equal(1, snapshot!.Manifest.Step);
        Assert.Equal([1L], (await run.ListAsync()).Select(s => s.Manifest.Step!.Value));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_directory_rewritten_after_its_background_snapshot_was_requested_is_never_committed_mixed()
    {
        var store = new GatedPackStore(new FolderStore(_temp.Combine("store")));
        await using var run = await TrainingRun.OpenAsync(store, "r", new TrainingRunOptions { Repository = TestRepositories.Small });
        for (var step = 1; step <= 2; step++)
        {
            TestData.WriteRandomFile(Path.Combine(_temp.Combine($"ckpt-{step}"), "weights.bin"), 1_000_000, step);
            TestData.WriteRandomFile(Path.Combine(_temp.Combine($"ckpt-{step}"), "optimizer.bin"), 200_000, step + 100);
        }

        store.HoldNextPack();
        var first = run.SnapshotInBackground(_temp.Combine("ckpt-1"), 1);
        await store.Held;
        var second = run.SnapshotInBackground(_temp.Combine("ckpt-2"), 2);
        // The trainer starts saving step 3 over step 2 while step 2 still waits: weights written, optimizer not yet.
        TestData.WriteRandomFile(Path.Combine(_temp.Combine("ckpt-2"), "weights.bin"), 1_100_000, 3);
        store.Release();

        Assert.Equal(1, (await first)!.Manifest.Step);
        await Assert.ThrowsAsync<Baton.Snapshots.CheckpointChangedException>(() => second);
        Assert.Equal([1L], (await run.ListAsync()).Select(s => s.Manifest.Step!.Value));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_checkpoint_deleted_by_the_trainer_while_its_background_snapshot_runs_is_still_committed_whole()
    {
        var store = new GatedPackStore(new FolderStore(_temp.Combine("store")));
        await using var run = await TrainingRun.OpenAsync(store, "r", new TrainingRunOptions { Repository = TestRepositories.Small });
        var checkpoints = _temp.Combine("ckpt");
        TestData.WriteRandomFile(Path.Combine(checkpoints, "weights.bin"), 4_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(checkpoints, "optimizer.bin"), 1_000_000, 2);
        TestData.WriteRandomFile(Path.Combine(_temp.Combine("original"), "weights.bin"), 4_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(_temp.Combine("original"), "optimizer.bin"), 1_000_000, 2);

        store.HoldNextPack();
        var pushed = run.SnapshotInBackground(checkpoints, 1);
        await store.Held;
        Directory.Delete(checkpoints, recursive: true); // rotation: the trainer keeps its last N checkpoints
        store.Release();

        Assert.Equal(1, (await pushed)!.Manifest.Step);
        var restored = await run.RestoreLatestAsync(_temp.Combine("machine-2"));
        Assert.Equal(1, restored!.Manifest.Step);
        TestData.AssertSameTree(_temp.Combine("original"), _temp.Combine("machine-2"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Disposing_waits_for_a_hung_background_snapshot_only_until_the_drain_deadline_and_commits_nothing_partial()
    {
        var store = new GatedPackStore(new FolderStore(_temp.Combine("store")));
        var run = await TrainingRun.OpenAsync(store, "r",
            new TrainingRunOptions { Repository = TestRepositories.Small, DrainDeadline = TimeSpan.FromMilliseconds(200) });
        var checkpoints = _temp.Combine("ckpt");
        TestData.WriteRandomFile(Path.Combine(checkpoints, "w.bin"), 1_000_000, 1);
        store.HoldNextPack(); // never released: the store hangs

        var pushed = run.SnapshotInBackground(checkpoints, 1);
        await store.Held;
        await run.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pushed);
        await using var again = await TrainingRun.OpenAsync(new FolderStore(_temp.Combine("store")), "r");
        Assert.Empty(await again.ListAsync());
    }

    public void Dispose() => _temp.Dispose();
}
