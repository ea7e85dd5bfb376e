using Baton.Maintenance;

namespace Baton.Supervision;

/// <summary>Retention while a run goes on: the run's policy applied in the background, never holding a push up.</summary>
public sealed partial class Supervisor
{
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);
    private readonly Lock _pruneGate = new();
    private Task _prune = Task.CompletedTask;
    private long? _lastPrune;

    // After a commit: prune when a policy is set, no prune runs, and the last one is at least a minute old.
    private void MaybePrune()
    {
        // One node of a multi-node run prunes for the group.
        if (_options.Retention is null || _group.Rank != 0)
        {
            return;
        }

        lock (_pruneGate)
        {
            if (!_prune.IsCompleted || (_lastPrune is { } last && _time.GetElapsedTime(last) < PruneInterval))
            {
                return;
            }

            _lastPrune = _time.GetTimestamp();
            _prune = Task.Run(() => PruneAsync(_abort.Token));
        }
    }

    /// <summary>Waits for a prune in progress, then prunes once more when <paramref name="final"/> (a finished run).</summary>
    private async Task FinishPruningAsync(bool final)
    {
        Task running;
        lock (_pruneGate)
        {
            running = _prune;
        }

        await running.ConfigureAwait(false);
        if (final && _options.Retention is not null && !_abort.IsCancellationRequested)
        {
            await PruneAsync(_abort.Token).ConfigureAwait(false);
        }
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        try
        {
            var result = await new Pruner(_repository).PruneAsync(_options.Run, _options.Retention!, dryRun: false, cancellationToken).ConfigureAwait(false);
            var removed = result.Removed.Count();
            if (removed > 0)
            {
                _log.Info($"pruned {removed} snapshot(s) ({_options.Retention}), freed {Bytes(result.Collection.BytesFreed + result.Collection.BytesReclaimed)}");
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is BatonException or IOException)
        {
            _log.Warn($"prune failed ({e.Message}); training goes on, the next prune tries again");
        }
    }
}
