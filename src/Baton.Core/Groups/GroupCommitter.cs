using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Baton.Leases;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;

namespace Baton.Groups;

/// <summary>What became of one node's part of a step.</summary>
/// <param name="Step">The step.</param>
/// <param name="PartsIn">How many of the attempt's parts of the step the node saw after writing its own.</param>
/// <param name="Committed">The group's snapshot of the step, once committed (by this node or another); <c>null</c>
/// while some node's part is missing, or when a newer step was committed first.</param>
/// <param name="Superseded">A newer step was already committed: this one never will be.</param>
public sealed record GroupCommitOutcome(long Step, int PartsIn, Snapshot? Committed, bool Superseded);

/// <summary>
/// Group commit (docs/FORMAT.md, "Multi-node snapshots"): each node writes its part of a step after its packs and
/// index are durable; whichever node then sees all the attempt's parts writes the step's manifest with
/// create-if-absent at the next sequence. No step lower than the run's newest is ever committed, and a step that
/// some node never completed is never visible.
/// </summary>
public sealed class GroupCommitter
{
    private const int CommitAttempts = 20;
    private readonly Repository _repository;
    private readonly string _run;
    private readonly GroupOptions _group;
    private readonly WriterLease _lease;
    private readonly Lock _gate = new();
    private long? _pending;

    /// <summary>Commits the steps of <paramref name="run"/> for the attempt that holds <paramref name="lease"/>.</summary>
    public GroupCommitter(Repository repository, string run, GroupOptions group, WriterLease lease)
    {
        ArgumentNullException.ThrowIfNull(group);
        _repository = repository;
        _run = run;
        _group = group;
        _lease = lease;
    }

    /// <summary>What happened to the last part this node wrote.</summary>
    public GroupCommitOutcome? Last { get; private set; }

    /// <summary>
    /// Which node pushes a file in the shared layout: the first four bytes of the SHA-256 of its UTF-8 path, big-endian,
    /// modulo the node count. Every node computes the same owner, so each file is pushed once.
    /// </summary>
    public static int OwnerOf(string path, int nodes)
    {
        ArgumentNullException.ThrowIfNull(path);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(path));
        return (int)(BinaryPrimitives.ReadUInt32BigEndian(hash) % (uint)nodes);
    }

    /// <summary>This node's share of a checkpoint's files: all of them in the node layout, its own in the shared one.</summary>
    public IReadOnlyList<string> ShareOf(IReadOnlyList<string> files) =>
        _group.SharedDirectory ? [.. files.Where(f => OwnerOf(f, _group.Nodes) == _group.Rank)] : files;

    /// <summary>
    /// Stands in for the commit point of a push (<see cref="PushOptions.Commit"/>): writes this node's part, then
    /// commits the step when every part is in. Returns the node's own view (its entries) with the group snapshot's id
    /// and sequence when committed, else the part's id and sequence 0.
    /// </summary>
    /// <exception cref="ConflictException">This attempt was fenced.</exception>
    public async Task<Snapshot> CommitPartAsync(SnapshotManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var step = manifest.Step ?? throw new BatonException(ErrorCategory.Failure,
            $"a {_group.Nodes}-node run commits a step only when every node has it, so each checkpoint needs a step number: pass --step-from REGEX");
        var part = new GroupPart
        {
            Run = _run, Epoch = _lease.Epoch, Group = _group.GroupId!, Node = _group.Rank, Nodes = _group.Nodes, Step = step, Layout = _group.Layout,
            Created = _repository.Options.TimeProvider.GetUtcNow(), Host = _repository.Options.HostName, Labels = manifest.Labels,
            Entries = manifest.Entries, Stats = manifest.Stats,
        };
        var data = MetadataEnvelope.Wrap(JsonSerializer.SerializeToUtf8Bytes(part, GroupJson.Default.GroupPart), _repository.Cipher);
        await _lease.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        await _repository.Store.PutAsync(GroupKeys.PartKey(_repository, _run, _lease.Epoch, step, _group.Rank), data, PutMode.Overwrite, cancellationToken)
            .ConfigureAwait(false);
        lock (_gate)
        {
            _pending = _pending is { } p && p > step ? p : step;
        }

        var outcome = await TryCommitAsync(step, cancellationToken).ConfigureAwait(false);
        Settle(outcome);
        Last = outcome;
        return outcome.Committed is { } committed
            ? new Snapshot(committed.Id, manifest with { Sequence = committed.Sequence, Epoch = _lease.Epoch })
            : new Snapshot(MetadataEnvelope.DigestOf(data).ToShortString(), manifest with { Sequence = 0, Epoch = _lease.Epoch });
    }

    /// <summary>
    /// Tries again to commit the newest step whose part this node wrote and that is not committed yet: the node whose
    /// part completed the step may have been killed before it committed. Returns the outcome, or <c>null</c> when
    /// nothing is pending.
    /// </summary>
    /// <exception cref="ConflictException">This attempt was fenced.</exception>
    public async Task<GroupCommitOutcome?> CommitPendingAsync(CancellationToken cancellationToken)
    {
        long step;
        lock (_gate)
        {
            if (_pending is not { } pending)
            {
                return null;
            }

            step = pending;
        }

        var outcome = await TryCommitAsync(step, cancellationToken).ConfigureAwait(false);
        Settle(outcome);
        return outcome;
    }

    private void Settle(GroupCommitOutcome outcome)
    {
        lock (_gate)
        {
            if ((outcome.Committed is not null || outcome.Superseded) && _pending is { } pending && pending <= outcome.Step)
            {
                _pending = null;
            }
        }
    }

    /// <summary>Commits <paramref name="step"/> if every node's part is in and no newer step is committed.</summary>
    /// <exception cref="ConflictException">This attempt was fenced.</exception>
    public async Task<GroupCommitOutcome> TryCommitAsync(long step, CancellationToken cancellationToken)
    {
        var store = _repository.Store;
        var prefix = GroupKeys.StepPrefix(_repository, _run, _lease.Epoch, step);
        for (var attempt = 1; ; attempt++)
        {
            var (last, latest) = await _repository.ReadHeadAsync(_run, cancellationToken).ConfigureAwait(false);
            if (latest?.Manifest.Step is { } newest && newest >= step)
            {
                // The winner of a race (or an earlier commit of the same step by this attempt) counts as done.
                var same = newest == step && latest.Manifest.Group?.Id == _group.GroupId && latest.Manifest.Epoch == _lease.Epoch;
                return new GroupCommitOutcome(step, _group.Nodes, same ? latest : null, !same);
            }

            var nodes = new SortedSet<int>();
            foreach (var info in await store.ListAllAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                if (int.TryParse(info.Key.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var node)
                    && node < _group.Nodes)
                {
                    nodes.Add(node);
                }
            }

            if (nodes.Count < _group.Nodes)
            {
                return new GroupCommitOutcome(step, nodes.Count, null, false);
            }

            var parts = new List<GroupPart>(_group.Nodes);
            foreach (var node in nodes)
            {
                var key = GroupKeys.PartKey(_repository, _run, _lease.Epoch, step, node);
                var part = await MetadataStore.TryReadAsync(_repository, key, GroupJson.Default.GroupPart, cancellationToken).ConfigureAwait(false);
                if (part is null || part.Step != step || part.Group != _group.GroupId || part.Nodes != _group.Nodes || part.Node != node)
                {
                    throw new IntegrityException($"group part '{key}' in {store.Location} does not belong to step {step} of group '{_group.GroupId}': run 'baton check'");
                }

                parts.Add(part);
            }

            var manifest = Compose(parts, step, last + 1, latest?.Id);
            await _lease.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var snapshot = await _repository.CommitAsync(manifest, cancellationToken).ConfigureAwait(false);
                _lease.RecordCommitted(snapshot.Sequence);
                return new GroupCommitOutcome(step, _group.Nodes, snapshot, false);
            }
            catch (ConflictException) when (attempt < CommitAttempts)
            {
                // Another node (or writer) took that sequence: the head says whether it committed this very step.
            }
        }
    }

    private SnapshotManifest Compose(List<GroupPart> parts, long step, long sequence, string? parent)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<SnapshotEntry>();
        foreach (var part in parts.OrderBy(p => p.Node))
        {
            var prefix = _group.SharedDirectory ? "" : SnapshotGroup.NodePrefix(part.Node);
            foreach (var entry in part.Entries)
            {
                // In the shared layout every node may list the same directories; files are disjoint by OwnerOf.
                if (seen.Add(prefix + entry.Path))
                {
                    entries.Add(entry with { Path = prefix + entry.Path });
                }
            }
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var labels = parts[0].Labels?.Where(l => l.Key != "leg").ToDictionary(StringComparer.Ordinal);
        return new SnapshotManifest
        {
            Run = _run,
            Sequence = sequence,
            Step = step,
            Created = _repository.Options.TimeProvider.GetUtcNow(),
            Host = _repository.Options.HostName,
            Parent = parent,
            Epoch = _lease.Epoch,
            Labels = labels is { Count: > 0 } ? labels : null,
            Group = new SnapshotGroup { Id = _group.GroupId!, Nodes = _group.Nodes, Layout = _group.Layout },
            Entries = entries,
            Stats = new SnapshotStats
            {
                Files = parts.Sum(p => p.Stats.Files),
                Bytes = parts.Sum(p => p.Stats.Bytes),
                BytesRead = parts.Sum(p => p.Stats.BytesRead),
                BytesNew = parts.Sum(p => p.Stats.BytesNew),
                BytesStored = parts.Sum(p => p.Stats.BytesStored),
                Seconds = parts.Max(p => p.Stats.Seconds),
            },
        };
    }
}
