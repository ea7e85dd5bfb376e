using Baton.Checkpoints;
using Baton.Leases;
using Baton.Repositories;
using Baton.Runs;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Runs;

public sealed class PushQueueTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<string> _events = [];

    [Fact(Timeout = 10_000)]
    public async Task While_one_push_runs_only_the_newest_waiting_checkpoint_is_pushed_next()
    {
        var gate = new TaskCompletionSource();
        var pushed = new List<long?>();
        var queue = Queue(async (c, ct) =>
        {
            lock (pushed)
            {
                pushed.Add(c.Step);
            }

            if (c.Step == 1)
            {
                await gate.Task.WaitAsync(ct);
            }

            return Snapshot(c);
        });

        Assert.True(Offer(queue, Checkpoint(1)));
        Assert.True(Offer(queue, Checkpoint(2)));
        Assert.True(Offer(queue, Checkpoint(3)));
        Assert.True(Offer(queue, Checkpoint(4)));
        gate.SetResult();
        Assert.Null(await queue.DrainAsync());

        Assert.Equal([1, 4], pushed);
        Assert.Equal(2, queue.Dropped);
        Assert.Equal(2, queue.Committed);
        Assert.Equal(4, queue.NewestCommittedStep);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_checkpoint_older_than_the_store_or_already_pushed_is_not_pushed()
    {
        var pushes = 0;
        var queue = Queue((c, _) => { Interlocked.Increment(ref pushes); return Task.FromResult(Snapshot(c)); });
        queue.MarkCommitted(null, 50);

        Assert.False(Offer(queue, Checkpoint(40)));
        Assert.True(Offer(queue, Checkpoint(60)));
        await queue.DrainAsync();
        Assert.False(Offer(queue, Checkpoint(60)));
        await queue.DrainAsync();

        Assert.Equal(1, pushes);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_checkpoint_older_than_the_one_being_pushed_never_follows_it()
    {
        var gate = new TaskCompletionSource();
        var pushed = new List<long?>();
        var queue = Queue(async (c, ct) =>
        {
            pushed.Add(c.Step);
            await gate.Task.WaitAsync(ct);
            return Snapshot(c);
        });

        Assert.True(Offer(queue, Checkpoint(40)));
        Assert.False(Offer(queue, Checkpoint(35)));
        gate.SetResult();
        await queue.DrainAsync();

        Assert.Equal([40], pushed);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_checkpoint_that_changes_while_pushed_is_abandoned_and_not_retried()
    {
        var attempts = new List<long?>();
        var queue = Queue((c, _) =>
        {
            attempts.Add(c.Step);
            return c.Step == 1 ? throw new CheckpointChangedException("a.bin", "changed") : Task.FromResult(Snapshot(c));
        });

        Offer(queue, Checkpoint(1));
        await queue.DrainAsync();
        Offer(queue, Checkpoint(1));
        Offer(queue, Checkpoint(2));
        await queue.DrainAsync();

        Assert.Equal([1, 2], attempts);
        Assert.Equal(1, queue.Abandoned);
        Assert.Contains("abandoned 1", Events());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_store_failure_is_retried_and_reported_when_it_persists_through_the_drain()
    {
        var attempts = 0;
        var queue = Queue((_, _) =>
        {
            Interlocked.Increment(ref attempts);
            throw new Baton.Storage.StoreException(Baton.Storage.StoreErrorReason.Unreachable, "store", null, "store is gone");
        });

        Offer(queue, Checkpoint(1));
        var error = await queue.DrainAsync();

        Assert.IsType<Baton.Storage.StoreException>(error);
        Assert.InRange(attempts, 3, 5);
        Assert.Equal(0, queue.Committed);
    }

    [Fact(Timeout = 10_000)]
    public async Task Abandoning_cancels_the_push_in_flight()
    {
        var started = new TaskCompletionSource();
        var queue = Queue(async (c, ct) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return Snapshot(c);
        });

        Offer(queue, Checkpoint(1));
        await started.Task;
        await queue.AbandonAsync();

        Assert.Null(await queue.DrainAsync());
        Assert.Equal(0, queue.Committed);
        Assert.False(Offer(queue, Checkpoint(2)));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_push_that_fails_on_the_store_is_retried_after_a_backoff_on_the_injected_clock_and_committed()
    {
        var store = new FlakyPackStore(new FolderStore(_temp.Combine("store")));
        var (repository, lease) = await OpenAsync(store);
        await using var _ = lease;
        var time = new FakeTimeProvider();
        var queue = new PushQueue(RealPush(repository, lease), Options(time));
        var directory = WriteCheckpoint("ckpt", 300_000, seed: 1); // one pack: one upload per attempt
        store.FailNext(2);

        var request = queue.Offer(directory, LibraryCheckpoints.Describe(directory, 1));
        // The backoff waits on the injected clock: move it on until the push gets through.
        for (var i = 0; i < 6000 && !request.Completion.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        var outcome = await request.Completion;
        Assert.Equal(PushStatus.Committed, outcome.Status);
        Assert.Equal(2, queue.Failures);
        Assert.Equal(["failed 1 attempt 1", "failed 1 attempt 2", "committed 1"], Events());
        Assert.Null(await queue.DrainAsync());
        await AssertRestoresAsync(repository, outcome.Snapshot!, directory);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_file_rewritten_while_its_checkpoint_is_read_abandons_the_push_and_nothing_is_committed()
    {
        var store = new GatedPackStore(new FolderStore(_temp.Combine("store")));
        var (repository, lease) = await OpenAsync(store);
        await using var _ = lease;
        var queue = new PushQueue(RealPush(repository, lease), Options(TimeProvider.System));
        // Larger than a pack, and than all the pipeline holds: the reader is still inside the file when the first pack is held.
        var directory = WriteCheckpoint("ckpt", 16_000_000, seed: 2);
        store.HoldNextPack();

        var checkpoint = LibraryCheckpoints.Describe(directory, 1);
        var request = queue.Offer(directory, checkpoint);
        await store.Held;
        await using (var rewrite = new FileStream(Path.Combine(directory, "weights.bin"), FileMode.Open, FileAccess.Write))
        {
            rewrite.Seek(-4096, SeekOrigin.End);
            await rewrite.WriteAsync(new byte[8192]); // in place, as a trainer overwriting its checkpoint does
        }

        store.Release();

        var outcome = await request.Completion;
        Assert.Equal(PushStatus.Abandoned, outcome.Status);
        Assert.IsType<CheckpointChangedException>(outcome.Error);
        Assert.Equal(["abandoned 1"], Events());
        Assert.Empty(await repository.ListSnapshotsAsync("r"));
        Assert.False(queue.Offer(directory, checkpoint).Accepted); // known to be torn: never offered again
    }

    [Fact(Timeout = 120_000)]
    public async Task A_checkpoint_the_trainer_deletes_while_it_is_pushed_is_still_committed_whole_through_its_pin()
    {
        var store = new GatedPackStore(new FolderStore(_temp.Combine("store")));
        var (repository, lease) = await OpenAsync(store);
        await using var _ = lease;
        var queue = new PushQueue(RealPush(repository, lease), Options(TimeProvider.System));
        var directory = WriteCheckpoint("ckpt", 4_000_000, seed: 3);
        CopyTree(directory, _temp.Combine("original"));
        store.HoldNextPack();

        var request = queue.Offer(directory, LibraryCheckpoints.Describe(directory, 1));
        await store.Held;
        Directory.Delete(directory, recursive: true); // the trainer keeps its last N checkpoints
        store.Release();

        var outcome = await request.Completion;
        Assert.Equal(PushStatus.Committed, outcome.Status);
        await AssertRestoresAsync(repository, outcome.Snapshot!, _temp.Combine("original"));
        Assert.False(Directory.Exists(CheckpointPin.RootFor(directory)));
    }

    [Fact(Timeout = 120_000)]
    public async Task While_a_real_push_runs_a_newer_checkpoint_replaces_the_waiting_one()
    {
        var store = new GatedPackStore(new FolderStore(_temp.Combine("store")));
        var (repository, lease) = await OpenAsync(store);
        await using var _ = lease;
        var queue = new PushQueue(RealPush(repository, lease), Options(TimeProvider.System));
        var requests = new List<PushRequest>();
        store.HoldNextPack();
        for (var step = 1; step <= 3; step++)
        {
            var directory = WriteCheckpoint($"ckpt-{step}", 1_000_000, seed: step);
            requests.Add(queue.Offer(directory, LibraryCheckpoints.Describe(directory, step)));
            if (step == 1)
            {
                await store.Held;
            }
        }

        store.Release();
        var drained = await queue.DrainOrAbandonAsync(TimeSpan.FromMinutes(1));

        Assert.False(drained.Abandoned);
        Assert.Equal([PushStatus.Committed, PushStatus.Replaced, PushStatus.Committed], (await Task.WhenAll(requests.Select(r => r.Completion))).Select(o => o.Status));
        Assert.Equal([1L, 3L], (await repository.ListSnapshotsAsync("r")).Select(s => s.Manifest.Step!.Value));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_drain_that_outlasts_its_deadline_abandons_the_push_and_refuses_later_checkpoints()
    {
        var store = new GatedPackStore(new FolderStore(_temp.Combine("store")));
        var (repository, lease) = await OpenAsync(store);
        await using var _ = lease;
        var queue = new PushQueue(RealPush(repository, lease), Options(TimeProvider.System));
        var first = WriteCheckpoint("ckpt-1", 1_000_000, seed: 1);
        var second = WriteCheckpoint("ckpt-2", 1_000_000, seed: 2);
        store.HoldNextPack(); // never released: the store hangs

        var running = queue.Offer(first, LibraryCheckpoints.Describe(first, 1));
        await store.Held;
        var waiting = queue.Offer(second, LibraryCheckpoints.Describe(second, 2));
        var drained = await queue.DrainOrAbandonAsync(TimeSpan.FromMilliseconds(200));

        Assert.True(drained.Abandoned);
        Assert.Equal(PushStatus.Cancelled, (await running.Completion).Status);
        Assert.Equal(PushStatus.Cancelled, (await waiting.Completion).Status);
        Assert.False(queue.Offer(second, LibraryCheckpoints.Describe(second, 3)).Accepted);
        Assert.Empty(await repository.ListSnapshotsAsync("r"));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_cancelled_drain_returns_at_once_and_leaves_the_push_running()
    {
        var store = new GatedPackStore(new FolderStore(_temp.Combine("store")));
        var (repository, lease) = await OpenAsync(store);
        await using var _ = lease;
        var queue = new PushQueue(RealPush(repository, lease), Options(TimeProvider.System));
        var directory = WriteCheckpoint("ckpt", 1_000_000, seed: 1);
        store.HoldNextPack();

        var request = queue.Offer(directory, LibraryCheckpoints.Describe(directory, 1));
        await store.Held;
        using var cancel = new CancellationTokenSource();
        var drain = queue.DrainAsync(cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => drain);

        Assert.False(request.Completion.IsCompleted);
        store.Release();
        Assert.Equal(PushStatus.Committed, (await request.Completion).Status);
        Assert.Null(await queue.DrainAsync());
    }

    public void Dispose() => _temp.Dispose();

    private PushQueueOptions Options(TimeProvider time) => new()
    {
        TimeProvider = time,
        Committed = (c, _) => Record($"committed {c.Step}"),
        Abandoned = (c, _) => Record($"abandoned {c.Step}"),
        Failed = (c, _, attempt) => Record($"failed {c.Step} attempt {attempt}"),
    };

    private void Record(string line)
    {
        lock (_events)
        {
            _events.Add(line);
        }
    }

    private List<string> Events()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    private static async Task<(Repository, WriterLease)> OpenAsync(IObjectStore store)
    {
        var repository = await TestRepositories.CreateAsync(store);
        return (repository, await WriterLease.AcquireAsync(repository, "r"));
    }

    // Two encoders: what the pipeline reads ahead of a held pack upload stays a few MB, whatever the machine.
    private static CheckpointPush RealPush(Repository repository, WriterLease lease) => (source, c, ct) =>
        repository.PushAsync(source, "r", new PushOptions { Step = c.Step, Include = c.Files, Expected = c.Stamps, Lease = lease, Workers = 2 }, ct);

    private string WriteCheckpoint(string name, long size, int seed)
    {
        var directory = _temp.Combine(name);
        TestData.WriteRandomFile(Path.Combine(directory, "weights.bin"), size, seed);
        TestData.WriteRandomFile(Path.Combine(directory, "optimizer", "state.bin"), size / 4, seed + 100);
        return directory;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private async Task AssertRestoresAsync(Repository repository, Snapshot snapshot, string expected)
    {
        var restored = _temp.Combine($"restored-{Guid.NewGuid():N}");
        await repository.RestoreAsync(snapshot, restored);
        TestData.AssertSameTree(expected, restored);
    }

    private PushQueue Queue(Func<Checkpoint, CancellationToken, Task<Snapshot>> push) => new((_, c, ct) => push(c, ct), Options(TimeProvider.System));

    private bool Offer(PushQueue queue, Checkpoint checkpoint) => queue.Offer(_temp.Path, checkpoint).Accepted;

    private static Checkpoint Checkpoint(long step) => new("pattern", step, $"ckpt-{step}", [$"ckpt-{step}.bin"], $"fp{step}");

    private static Snapshot Snapshot(Checkpoint c) =>
        new("0123456789abcdef", new SnapshotManifest { Run = "r", Sequence = c.Step ?? 0, Step = c.Step, Entries = [] });
}

/// <summary>A store whose next pack uploads fail, as a flaky network makes them fail, once told how many.</summary>
internal sealed class FlakyPackStore(IObjectStore inner) : ObjectStoreDecorator(inner)
{
    private int _failures;

    public void FailNext(int count) => Volatile.Write(ref _failures, count);

    public override Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default) =>
        key.StartsWith(RepositoryLayout.DataPrefix, StringComparison.Ordinal) && Interlocked.Decrement(ref _failures) >= 0
            ? throw new StoreException(StoreErrorReason.Transient, Location, key, $"cannot write '{key}': connection reset")
            : base.PutAsync(key, data, mode, cancellationToken);
}

/// <summary>A store that holds the next pack upload until released, so a test can act while a push is in flight.</summary>
internal sealed class GatedPackStore(IObjectStore inner) : ObjectStoreDecorator(inner)
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _armed;

    /// <summary>Completes when a pack upload is being held.</summary>
    public Task Held => _held.Task;

    public void HoldNextPack() => Volatile.Write(ref _armed, 1);

    public void Release() => _release.TrySetResult();

    public override async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        if (key.StartsWith(RepositoryLayout.DataPrefix, StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _held.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
        }

        await base.PutAsync(key, data, mode, cancellationToken);
    }
}
