using Baton.Journal;

namespace Baton.Supervision;

/// <summary>
/// Keeps the leg record in the store up to date without ever holding the trainer up: each change schedules a
/// write of the latest state (writes coalesce), and a failed write is reported once and retried with the next change.
/// </summary>
internal sealed class LegRecorder(RunJournal journal, Leg initial, ISupervisorLog log, TimeProvider timeProvider)
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _writer = new(1, 1);
    private long _version;
    private long _written = -1;
    private bool _warned;

    public Leg Current { get; private set; } = initial;

    public void Update(Func<Leg, Leg> change)
    {
        lock (_gate)
        {
            Current = change(Current) with { Updated = timeProvider.GetUtcNow() };
            _version++;
        }

        _ = WriteAsync(CancellationToken.None);
    }

    /// <summary>Writes the latest state now (waiting for a write in progress).</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => WriteAsync(cancellationToken);

    public async Task HeartbeatAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Update(leg => leg);
        }
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            Leg leg;
            long version;
            lock (_gate)
            {
                if (_written >= _version)
                {
                    return;
                }

                leg = Current;
                version = _version;
            }

            await journal.WriteAsync(leg, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _written = Math.Max(_written, version);
                _warned = false;
            }
        }
        catch (Exception e) when (e is BatonException or IOException or OperationCanceledException)
        {
            if (e is not OperationCanceledException && !_warned)
            {
                _warned = true;
                log.Warn($"cannot record this leg in the store ({e.Message}); training goes on");
            }
        }
        finally
        {
            _writer.Release();
        }
    }
}
