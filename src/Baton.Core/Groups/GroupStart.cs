using System.Globalization;
using Baton.Leases;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Groups;

/// <summary>
/// The start of a multi-node attempt: every node restores the step recorded in the attempt's claim (its own part, or
/// in the shared layout node 0 the whole tree), then waits at a barrier until all nodes are ready, so that all start
/// from the same step or none starts (<see cref="GroupStartException"/>).
/// </summary>
public sealed class GroupStart
{
    private const string StartDecision = "start";
    private const string AbortDecision = "abort";
    private readonly Repository _repository;
    private readonly string _run;
    private readonly GroupOptions _group;
    private readonly WriterLease _lease;

    /// <summary>The start of the attempt that holds <paramref name="lease"/>.</summary>
    public GroupStart(Repository repository, string run, GroupOptions group, WriterLease lease)
    {
        ArgumentNullException.ThrowIfNull(group);
        _repository = repository;
        _run = run;
        _group = group;
        _lease = lease;
    }

    /// <summary>Whether this node restores (every node in the node layout; node 0 alone in the shared layout).</summary>
    public bool RestoresHere => !_group.SharedDirectory || _group.Rank == 0;

    /// <summary>The snapshot every node of the attempt starts from, as the claim recorded it; <c>null</c>: from scratch.</summary>
    /// <exception cref="GroupStartException">It is gone, or was written by a group of another shape.</exception>
    public async Task<Snapshot?> AgreedSnapshotAsync(CancellationToken cancellationToken)
    {
        var claim = _lease.Claim ?? throw new GroupStartException($"the claim of epoch {_lease.Epoch} of run '{_run}' cannot be read: start the job again");
        if (claim.StartSequence is not { } sequence)
        {
            return null;
        }

        Snapshot snapshot;
        try
        {
            snapshot = await _repository.ReadSnapshotAsync(_repository.SnapshotKey(_run, sequence), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
        {
            throw new GroupStartException(
                $"snapshot #{sequence} (step {claim.StartStep}), the start agreed by job attempt '{_group.GroupId}', is gone from run '{_run}': start the job again with a new group id", e);
        }

        if (snapshot.Manifest.Group is { } written && (written.Nodes != _group.Nodes || written.Layout != _group.Layout))
        {
            throw new GroupStartException(
                $"the newest snapshot of run '{_run}' (step {snapshot.Manifest.Step}) was written by {written.Nodes} nodes in the {written.Layout} layout, and this job has {_group.Nodes} nodes in the {_group.Layout} layout: run the same shape of job, or pull it and convert");
        }

        if (snapshot.Manifest.Group is null && !_group.SharedDirectory)
        {
            throw new GroupStartException(
                $"the newest snapshot of run '{_run}' (step {snapshot.Manifest.Step}) was written by one node, and each of this job's {_group.Nodes} nodes would need its own part: run it with --shared-dir, or as one node");
        }

        return snapshot;
    }

    /// <summary>What this node restores of <paramref name="snapshot"/>: its own part in the node layout, else all.</summary>
    public Snapshot OwnView(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (_group.SharedDirectory)
        {
            return snapshot;
        }

        var prefix = SnapshotGroup.NodePrefix(_group.Rank);
        var entries = snapshot.Manifest.Entries.Where(e => e.Path.StartsWith(prefix, StringComparison.Ordinal) && e.Path.Length > prefix.Length)
            .Select(e => e with { Path = e.Path[prefix.Length..] }).ToList();
        return snapshot with { Manifest = snapshot.Manifest with { Entries = entries } };
    }

    /// <summary>
    /// Says this node is ready to start from <paramref name="step"/> and waits until every node is, for at most
    /// <see cref="GroupOptions.BarrierTimeout"/>. The first node to see all ready (or to time out) records the
    /// decision with create-if-absent; every node follows it.
    /// </summary>
    /// <exception cref="GroupStartException">The attempt's decision is not to start.</exception>
    public async Task BarrierAsync(long? step, CancellationToken cancellationToken)
    {
        var store = _repository.Store;
        var time = _repository.Options.TimeProvider;
        var prefix = GroupKeys.ReadyPrefix(_repository, _run, _lease.Epoch);
        var ready = new GroupReady { Node = _group.Rank, Group = _group.GroupId!, Step = step, Host = _repository.Options.HostName, Time = time.GetUtcNow() };
        await MetadataStore.WriteAsync(_repository, prefix + _group.Rank.ToString(CultureInfo.InvariantCulture), ready, GroupJson.Default.GroupReady,
            PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
        var started = time.GetTimestamp();
        while (true)
        {
            if (await ReadDecisionAsync(prefix, cancellationToken).ConfigureAwait(false) is { } decided)
            {
                Follow(decided);
                return;
            }

            var present = await ReadyNodesAsync(prefix, step, cancellationToken).ConfigureAwait(false);
            if (present.Count >= _group.Nodes)
            {
                Follow(await DecideAsync(prefix, StartDecision, "", cancellationToken).ConfigureAwait(false));
                return;
            }

            if (time.GetElapsedTime(started) >= _group.BarrierTimeout)
            {
                var missing = Enumerable.Range(0, _group.Nodes).Where(n => !present.Contains(n)).ToList();
                var why = $"only {present.Count} of {_group.Nodes} nodes of job attempt '{_group.GroupId}' were ready within {_group.BarrierTimeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s (missing: node {string.Join(", ", missing)})";
                Follow(await DecideAsync(prefix, AbortDecision, why, cancellationToken).ConfigureAwait(false));
                return;
            }

            await Task.Delay(_group.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Follow(GroupReady decision)
    {
        if (decision.Decision != StartDecision)
        {
            throw new GroupStartException(
                $"{decision.Reason ?? $"job attempt '{_group.GroupId}' was aborted"}: none starts its trainer, so that all nodes resume from the same step; start the job again (a new attempt) once every node can run, or raise --barrier-timeout");
        }
    }

    private async Task<GroupReady> DecideAsync(string prefix, string decision, string why, CancellationToken cancellationToken)
    {
        var record = new GroupReady
        {
            Node = _group.Rank, Group = _group.GroupId!, Host = _repository.Options.HostName, Reason = why.Length > 0 ? why : null, Time = _repository.Options.TimeProvider.GetUtcNow(), Decision = decision,
        };
        try
        {
            await MetadataStore.WriteAsync(_repository, prefix + "decision", record, GroupJson.Default.GroupReady, PutMode.CreateNew, cancellationToken).ConfigureAwait(false);
            return record;
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.AlreadyExists)
        {
            return await ReadDecisionAsync(prefix, cancellationToken).ConfigureAwait(false) ?? record;
        }
    }

    private async Task<GroupReady?> ReadDecisionAsync(string prefix, CancellationToken cancellationToken) =>
        await MetadataStore.TryReadAsync(_repository, prefix + "decision", GroupJson.Default.GroupReady, cancellationToken).ConfigureAwait(false);

    private async Task<HashSet<int>> ReadyNodesAsync(string prefix, long? step, CancellationToken cancellationToken)
    {
        var present = new HashSet<int>();
        foreach (var info in await _repository.Store.ListAllAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (int.TryParse(info.Key.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var node) && node < _group.Nodes)
            {
                var record = await MetadataStore.TryReadAsync(_repository, info.Key, GroupJson.Default.GroupReady, cancellationToken).ConfigureAwait(false);
                if (record is not null && record.Step != step)
                {
                    throw new GroupStartException(
                        $"node {node} of job attempt '{_group.GroupId}' is ready to start from step {record.Step?.ToString(CultureInfo.InvariantCulture) ?? "none"}, and this node from {step?.ToString(CultureInfo.InvariantCulture) ?? "none"}: none starts");
                }

                present.Add(node);
            }
        }

        return present;
    }
}
