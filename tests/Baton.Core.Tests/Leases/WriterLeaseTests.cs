using Baton.Leases;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Leases;

public sealed class WriterLeaseTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));

    [Fact(Timeout = 60_000)]
    public async Task A_second_writer_on_a_live_run_is_refused_and_told_who_holds_it()
    {
        var repository = await OpenAsync("machine-a");
        await using var first = await WriterLease.AcquireAsync(repository, "r", new LeaseOptions { Holder = "baton run" });

        var other = await OpenAsync("machine-b");
        var error = await Assert.ThrowsAsync<ConflictException>(() => WriterLease.AcquireAsync(other, "r"));

        Assert.Contains("baton run on machine-a", error.Message, StringComparison.Ordinal);
        Assert.Contains("--take-over", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_released_lease_is_taken_without_a_fence()
    {
        var repository = await OpenAsync("machine-a");
        await (await WriterLease.AcquireAsync(repository, "r")).DisposeAsync();

        await using var second = await WriterLease.AcquireAsync(await OpenAsync("machine-b"), "r");

        Assert.Equal(2, second.Epoch);
        Assert.Null(second.TookOverFrom);
        Assert.Empty(await repository.Store.ListAllAsync(RepositoryLayout.SnapshotPrefix("r")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_holder_whose_heartbeat_is_stale_is_taken_over_automatically_and_says_so()
    {
        // Machine A's clock stands still (it was preempted: no heartbeat, no release); B lives ten minutes later.
        var a = await OpenAsync("machine-a", new FakeTimeProvider(_clock.GetUtcNow()));
        var source = Source(1);
        await a.PushAsync(source, "r", new() { Step = 1 });
        var stale = await WriterLease.AcquireAsync(a, "r");
        _clock.Advance(TimeSpan.FromMinutes(10));
        // Ages are judged by the store's clock: the store last heard from A ten minutes ago.
        File.SetLastWriteTimeUtc(_temp.Combine("store", "runs", "r", "epochs", $"{stale.Epoch:D10}"), TimeProvider.System.GetUtcNow().UtcDateTime - TimeSpan.FromMinutes(10));

        var b = await OpenAsync("machine-b");
        await using var fresh = await WriterLease.AcquireAsync(b, "r");

        Assert.Contains("machine-a", fresh.TookOverFrom, StringComparison.Ordinal);
        var snapshot = await b.PushAsync(Source(2), "r", new() { Step = 2, Lease = fresh });
        Assert.Equal(3, snapshot.Sequence); // 1 = first push, 2 = the fence
        Assert.Equal([1L, 2L], (await b.ListSnapshotsAsync("r")).Select(s => s.Manifest.Step!.Value));
        await Assert.ThrowsAsync<ConflictException>(() => a.PushAsync(Source(3), "r", new() { Step = 3, Lease = stale }));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_fenced_writer_cannot_commit_and_learns_it_lost_the_run()
    {
        var a = await OpenAsync("machine-a");
        var zombie = await WriterLease.AcquireAsync(a, "r");
        var b = await OpenAsync("machine-b");
        await using var usurper = await WriterLease.AcquireAsync(b, "r", new LeaseOptions { TakeOver = true });

        var error = await Assert.ThrowsAsync<ConflictException>(() => a.PushAsync(Source(1), "r", new() { Step = 1, Lease = zombie }));

        Assert.Contains("fenced", error.Message, StringComparison.Ordinal);
        Assert.True(zombie.Lost.IsCancellationRequested);
        Assert.Empty(await a.ListSnapshotsAsync("r"));
        await b.PushAsync(Source(2), "r", new() { Step = 2, Lease = usurper });
        Assert.Equal([2L], (await a.ListSnapshotsAsync("r")).Select(s => s.Manifest.Step!.Value));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_plain_push_takes_and_releases_its_own_lease()
    {
        var repository = await OpenAsync("machine-a");
        await repository.PushAsync(Source(1), "r");
        await repository.PushAsync(Source(2), "r");

        await using var next = await WriterLease.AcquireAsync(repository, "r");
        Assert.Equal(3, next.Epoch);
        Assert.Null(next.TookOverFrom);
        Assert.Equal([1L, 2L], (await repository.ListSnapshotsAsync("r")).Select(s => s.Manifest.Epoch));
    }

    private string Source(int seed)
    {
        var dir = _temp.Combine($"src-{seed}");
        TestData.WriteRandomFile(Path.Combine(dir, "w.bin"), 200_000, seed);
        return dir;
    }

    private Task<Repository> OpenAsync(string host, TimeProvider? clock = null) => Repository.OpenOrInitAsync(
        new FolderStore(_temp.Combine("store")), new RepositoryOptions { HostName = host, TimeProvider = clock ?? _clock });

    public void Dispose() => _temp.Dispose();
}
