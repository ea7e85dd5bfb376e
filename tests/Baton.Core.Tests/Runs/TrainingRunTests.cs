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

    public void Dispose() => _temp.Dispose();
}
