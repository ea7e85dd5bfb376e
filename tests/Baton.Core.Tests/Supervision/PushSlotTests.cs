using Baton.Checkpoints;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Supervision;

namespace Baton.Tests.Supervision;

public sealed class PushSlotTests
{
    private readonly RecordingLog _log = new();

    [Fact(Timeout = 10_000)]
    public async Task While_one_push_runs_only_the_newest_waiting_checkpoint_is_pushed_next()
    {
        var gate = new TaskCompletionSource();
        var pushed = new List<long?>();
        var slot = Slot(async (c, ct) =>
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

        Assert.True(slot.Offer(Checkpoint(1)));
        Assert.True(slot.Offer(Checkpoint(2)));
        Assert.True(slot.Offer(Checkpoint(3)));
        Assert.True(slot.Offer(Checkpoint(4)));
        gate.SetResult();
        Assert.Null(await slot.DrainAsync());

        Assert.Equal([1, 4], pushed);
        Assert.Equal(2, slot.Dropped);
        Assert.Equal(2, slot.Committed);
        Assert.Equal(4, slot.NewestCommittedStep);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_checkpoint_older_than_the_store_or_already_pushed_is_not_pushed()
    {
        var pushes = 0;
        var slot = Slot((c, _) => { Interlocked.Increment(ref pushes); return Task.FromResult(Snapshot(c)); });
        slot.MarkCommitted(null, 50);

        Assert.False(slot.Offer(Checkpoint(40)));
        Assert.True(slot.Offer(Checkpoint(60)));
        await slot.DrainAsync();
        Assert.False(slot.Offer(Checkpoint(60)));
        await slot.DrainAsync();

        Assert.Equal(1, pushes);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_checkpoint_older_than_the_one_being_pushed_never_follows_it()
    {
        var gate = new TaskCompletionSource();
        var pushed = new List<long?>();
        var slot = Slot(async (c, ct) =>
        {
            pushed.Add(c.Step);
            await gate.Task.WaitAsync(ct);
            return Snapshot(c);
        });

        Assert.True(slot.Offer(Checkpoint(40)));
        Assert.False(slot.Offer(Checkpoint(35)));
        gate.SetResult();
        await slot.DrainAsync();

        Assert.Equal([40], pushed);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_checkpoint_that_changes_while_pushed_is_abandoned_and_not_retried()
    {
        var attempts = new List<long?>();
        var slot = Slot((c, _) =>
        {
            attempts.Add(c.Step);
            return c.Step == 1 ? throw new CheckpointChangedException("a.bin", "changed") : Task.FromResult(Snapshot(c));
        });

        slot.Offer(Checkpoint(1));
        await slot.DrainAsync();
        slot.Offer(Checkpoint(1));
        slot.Offer(Checkpoint(2));
        await slot.DrainAsync();

        Assert.Equal([1, 2], attempts);
        Assert.Equal(1, slot.Abandoned);
        Assert.Contains(_log.Lines, l => l.Contains("changed while it was being pushed", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_store_failure_is_retried_and_reported_when_it_persists_through_the_drain()
    {
        var attempts = 0;
        var slot = Slot((_, _) =>
        {
            Interlocked.Increment(ref attempts);
            throw new Baton.Storage.StoreException(Baton.Storage.StoreErrorReason.Unreachable, "store", null, "store is gone");
        });

        slot.Offer(Checkpoint(1));
        var error = await slot.DrainAsync();

        Assert.IsType<Baton.Storage.StoreException>(error);
        Assert.InRange(attempts, 3, 5);
        Assert.Equal(0, slot.Committed);
    }

    [Fact(Timeout = 10_000)]
    public async Task Abandoning_cancels_the_push_in_flight()
    {
        var started = new TaskCompletionSource();
        var slot = Slot(async (c, ct) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return Snapshot(c);
        });

        slot.Offer(Checkpoint(1));
        await started.Task;
        await slot.AbandonAsync();

        Assert.Null(await slot.DrainAsync());
        Assert.Equal(0, slot.Committed);
        Assert.False(slot.Offer(Checkpoint(2)));
    }

    private PushSlot Slot(Func<Checkpoint, CancellationToken, Task<Snapshot>> push) =>
        new(push, (_, _) => { }, _log, TimeProvider.System);

    private static Checkpoint Checkpoint(long step) => new("pattern", step, $"ckpt-{step}", [$"ckpt-{step}.bin"], $"fp{step}");

    private static Snapshot Snapshot(Checkpoint c) =>
        new("0123456789abcdef", new SnapshotManifest { Run = "r", Sequence = c.Step ?? 0, Step = c.Step, Entries = [] });
}

internal sealed class RecordingLog : ISupervisorLog
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public void Info(string message) => Add(message);

    public void Warn(string message) => Add(message);

    private void Add(string message)
    {
        lock (_lines)
        {
            _lines.Add(message);
        }
    }
}
