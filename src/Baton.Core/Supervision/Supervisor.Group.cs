using Baton.Checkpoints;
using Baton.Groups;
using Baton.Repositories;
using Baton.Snapshots;

namespace Baton.Supervision;

/// <summary>
/// A node of a multi-node run (docs/DESIGN.md, "Multi-node runs"): restores the step its job attempt agreed on, waits
/// for every node at the start barrier, and completes group commits that a node killed after its part left undone.
/// </summary>
public sealed partial class Supervisor
{
    private static readonly TimeSpan PendingCommitInterval = TimeSpan.FromSeconds(2);

    private async Task RestoreGroupAsync(CancellationToken cancellationToken)
    {
        using var stopOrCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var start = new GroupStart(_repository, _options.Run, _group, _lease);
        var agreed = await start.AgreedSnapshotAsync(stopOrCancel.Token).ConfigureAwait(false);
        var step = agreed?.Manifest.Step;
        Pushes.MarkCommitted(null, step);
        if (start.RestoresHere)
        {
            RestoreSwitch.Recover(_directory);
            var local = Scanner.Scan(DetectionMode.Settled).Newest;
            if (agreed is not null && local is not null && local.Step == step)
            {
                _log.Info($"{_options.Directory} already holds {local.Describe()}, the step job attempt '{_group.GroupId}' starts from: keeping it");
                Pushes.MarkCommitted(local, step);
            }
            else if (agreed is not null || local is not null)
            {
                // Local checkpoints newer (or other) than the agreed step would make this node resume from elsewhere
                // than its peers: they go to .baton-previous, as pull --overwrite keeps them, never deleted.
                var view = agreed is null
                    ? new Snapshot("none", new SnapshotManifest { Run = _options.Run, Entries = [] })
                    : start.OwnView(agreed);
                var clock = _time.GetTimestamp();
                var restored = await _repository.RestoreAsync(view, _directory, new RestoreOptions { Overwrite = true, KeepPrevious = true }, stopOrCancel.Token)
                    .ConfigureAwait(false);
                if (local is not null)
                {
                    _log.Info($"moved {local.Describe()} aside to {Path.Combine(_options.Directory, ReservedNames.Previous)}: job attempt '{_group.GroupId}' starts every node from {(step is { } s ? $"step {s}" : "scratch")}");
                }

                if (agreed is not null)
                {
                    _restoredStep = step;
                    Scanner.Restored(view.Manifest, _time);
                    Leg.Update(l => l with { RestoredSnapshot = agreed.Id });
                    _log.Info($"restored node {_group.Rank}'s part of step {step} (snapshot {agreed.Id}) from the store: {restored.Files} files, {Bytes(restored.Bytes)} verified in {Durations.Format(_time.GetElapsedTime(clock))}");
                }

                Pushes.MarkCommitted(Scanner.Scan(DetectionMode.Settled).Newest is { } after && after.Step == step ? after : null, step);
            }
        }

        _log.Info($"node {_group.Rank} of {_group.Nodes} ready to start from {(step is { } ready ? $"step {ready}" : "scratch")}; waiting for the other nodes (up to {Durations.Format(_group.BarrierTimeout)})");
        await start.BarrierAsync(step, stopOrCancel.Token).ConfigureAwait(false);
        if (!start.RestoresHere)
        {
            // Node 0 restored the shared tree before it became ready.
            _restoredStep = step;
            var present = Scanner.Scan(DetectionMode.Settled).Newest;
            Pushes.MarkCommitted(present is not null && present.Step == step ? present : null, step);
        }

        _log.Info($"all {_group.Nodes} nodes of job attempt '{_group.GroupId}' are ready: starting");
    }

    // A step whose last part was written by a node killed before it committed is committed by any node still here.
    private async Task CommitPendingPartsAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PendingCommitInterval, _time, cancellationToken).ConfigureAwait(false);
                if (await _committer!.CommitPendingAsync(cancellationToken).ConfigureAwait(false) is { Committed: { } snapshot } outcome)
                {
                    _log.Info($"step {outcome.Step} of job attempt '{_group.GroupId}' is committed: snapshot {snapshot.Id}");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (BatonException e)
            {
                _log.Warn($"group commit check failed: {e.Message}");
            }
        }
    }
}
