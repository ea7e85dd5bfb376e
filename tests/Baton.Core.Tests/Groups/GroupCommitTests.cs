using Baton.Checking;
using Baton.Groups;
using Baton.Leases;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Groups;

/// <summary>
/// Group commit with four simulated nodes, each with its own repository handle (and, where a node's store is to fail,
/// its own faulty store) on one folder store: a step is visible only when every node's part is in.
/// </summary>
public sealed class GroupCommitTests : IAsyncDisposable
{
    private const int Nodes = 4;
    private readonly TempDirectory _temp = new();
    private readonly List<WriterLease> _leases = [];

    [Fact(Timeout = 120_000)]
    public async Task A_step_becomes_one_snapshot_only_when_the_last_of_four_parts_is_in()
    {
        var nodes = await StartAsync("job.1");
        for (var rank = 0; rank < Nodes - 1; rank++)
        {
            var own = await PushPartAsync(nodes[rank], rank, step: 100);
            Assert.Equal(0, own.Sequence);
            Assert.Empty(await nodes[0].Repository.ListSnapshotsAsync("r"));
        }

        var last = await PushPartAsync(nodes[3], 3, step: 100);

        var snapshot = Assert.Single(await nodes[0].Repository.ListSnapshotsAsync("r"));
        Assert.Equal(last.Id, snapshot.Id);
        Assert.Equal(100, snapshot.Manifest.Step);
        Assert.Equal(new SnapshotGroup { Id = "job.1", Nodes = Nodes, Layout = "node" }, snapshot.Manifest.Group);
        // Every node's files under its own prefix: the same names on every node do not collide.
        Assert.Equal(Enumerable.Range(0, Nodes).SelectMany(r => new[] { $"node-{r}/latest", $"node-{r}/model.bin" }),
            snapshot.Manifest.Entries.Select(e => e.Path));
        Assert.True((await new Checker(nodes[0].Repository).CheckAsync(readData: true)).IsHealthy);

        // Restore on node 2 writes exactly its own part.
        var start = new GroupStart(nodes[2].Repository, "r", nodes[2].Options, nodes[2].Lease);
        var target = _temp.Combine("restored-2");
        await nodes[2].Repository.RestoreAsync(start.OwnView(snapshot), target);
        Assert.Equal(["latest", "model.bin"], Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(Content(100, 2), await File.ReadAllBytesAsync(Path.Combine(target, "model.bin")));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_node_killed_between_its_part_and_the_commit_leaves_the_step_to_the_others()
    {
        // Node 3's store takes its part, then fails every manifest write: as if it were killed right after the part.
        var nodes = await StartAsync("job.1", faultyRank: 3, faultyKeys: key => key.Contains("/snapshots/", StringComparison.Ordinal));
        for (var rank = 0; rank < Nodes - 1; rank++)
        {
            await PushPartAsync(nodes[rank], rank, step: 7);
        }

        await Assert.ThrowsAnyAsync<BatonException>(() => PushPartAsync(nodes[3], 3, step: 7));
        Assert.Empty(await nodes[0].Repository.ListSnapshotsAsync("r"));

        // Any surviving node finishes it; two of them at once commit it once.
        var outcomes = await Task.WhenAll(nodes[0].Committer.CommitPendingAsync(CancellationToken.None), nodes[1].Committer.CommitPendingAsync(CancellationToken.None));

        var snapshot = Assert.Single(await nodes[0].Repository.ListSnapshotsAsync("r"));
        Assert.All(outcomes, o => Assert.Equal(snapshot.Id, o!.Committed!.Id));
        Assert.Equal(7, snapshot.Manifest.Step);
        Assert.True((await new Checker(nodes[0].Repository).CheckAsync(readData: true)).IsHealthy);
    }

    [Fact(Timeout = 120_000)]
    public async Task Nodes_racing_to_commit_the_same_step_make_one_snapshot_and_all_count_it()
    {
        // Every part is in and nobody has committed (the last node's manifest write failed): then all race.
        var nodes = await StartAsync("job.1", faultyRank: 3, faultyKeys: key => key.Contains("/snapshots/", StringComparison.Ordinal));
        for (var rank = 0; rank < Nodes - 1; rank++)
        {
            await PushPartAsync(nodes[rank], rank, step: 5);
        }

        await Assert.ThrowsAnyAsync<BatonException>(() => PushPartAsync(nodes[3], 3, step: 5));
        var healed = await JoinAsync("job.1", 3, null);

        var racing = await Task.WhenAll(nodes.Take(3).Select(n => n.Committer).Append(healed.Committer)
            .Select(c => Task.Run(() => c.TryCommitAsync(5, CancellationToken.None))));

        var snapshot = Assert.Single(await nodes[0].Repository.ListSnapshotsAsync("r"));
        Assert.All(racing, o => Assert.Equal(snapshot.Id, o.Committed?.Id));
        Assert.Single(await nodes[0].Repository.Store.ListAllAsync(nodes[0].Repository.SnapshotPrefix("r")));
        Assert.True((await new Checker(nodes[0].Repository).CheckAsync(readData: true)).IsHealthy);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_node_whose_store_writes_fail_keeps_every_step_invisible_until_it_pushes()
    {
        // A full disk or a store that refuses node 1's packs: its part never lands.
        var nodes = await StartAsync("job.1", faultyRank: 1, faultyKeys: key => key.StartsWith("data/", StringComparison.Ordinal));
        foreach (var rank in new[] { 0, 2, 3 })
        {
            await PushPartAsync(nodes[rank], rank, step: 10);
            await PushPartAsync(nodes[rank], rank, step: 20);
        }

        await Assert.ThrowsAnyAsync<Exception>(() => PushPartAsync(nodes[1], 1, step: 10));
        Assert.Empty(await nodes[0].Repository.ListSnapshotsAsync("r"));
        Assert.True((await new Checker(nodes[0].Repository).CheckAsync(readData: true)).IsHealthy);

        // Node 1 recovers (another handle on the healthy store) and catches up with step 20: step 10 never will be.
        var healed = await JoinAsync("job.1", 1, null);
        await PushPartAsync(healed, 1, step: 20);
        var snapshot = Assert.Single(await nodes[0].Repository.ListSnapshotsAsync("r"));
        Assert.Equal(20, snapshot.Manifest.Step);
        var late = await nodes[0].Committer.TryCommitAsync(10, CancellationToken.None);
        Assert.True(late.Superseded);
        Assert.Single(await nodes[0].Repository.ListSnapshotsAsync("r"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Prune_deletes_the_parts_that_can_never_be_committed_and_keeps_pending_ones()
    {
        var nodes = await StartAsync("job.1");
        await PushPartAsync(nodes[0], 0, step: 1);
        for (var rank = 0; rank < Nodes; rank++)
        {
            await PushPartAsync(nodes[rank], rank, step: 2);
        }

        await PushPartAsync(nodes[0], 0, step: 3);
        var repository = nodes[0].Repository;
        var deleted = await GroupParts.DeleteObsoleteAsync(repository, "r", CancellationToken.None);

        Assert.Equal(1 + Nodes, deleted);
        var left = await repository.Store.ListAllAsync(GroupKeys.PartsPrefix(repository, "r"));
        Assert.Equal([GroupKeys.PartKey(repository, "r", 1, 3, 0)], left.Select(i => i.Key));
        // The pending part's chunks stay live for collection.
        Assert.NotEmpty(await GroupParts.ReferencedChunksAsync(repository, CancellationToken.None));
        Assert.True((await new Checker(repository).CheckAsync(readData: true)).IsHealthy);
    }

    private async Task<Node[]> StartAsync(string group, int faultyRank = -1, Func<string, bool>? faultyKeys = null)
    {
        var nodes = new Node[Nodes];
        for (var rank = 0; rank < Nodes; rank++)
        {
            nodes[rank] = await JoinAsync(group, rank, rank == faultyRank ? faultyKeys : null);
        }

        Assert.True(nodes.Skip(1).All(n => n.Lease.Joined && n.Lease.Epoch == nodes[0].Lease.Epoch));
        return nodes;
    }

    private async Task<Node> JoinAsync(string group, int rank, Func<string, bool>? faultyKeys)
    {
        IObjectStore store = new FolderStore(_temp.Combine("store"));
        if (faultyKeys is not null)
        {
            store = new FailingWrites(store, faultyKeys);
        }

        var repository = await Repository.OpenOrInitAsync(store, new RepositoryOptions { HostName = $"node-{rank}" });
        var options = new GroupOptions { Nodes = Nodes, Rank = rank, GroupId = group };
        var lease = await WriterLease.AcquireAsync(repository, "r", new LeaseOptions { GroupId = group, GroupNodes = Nodes, GroupRank = rank });
        _leases.Add(lease);
        return new Node(repository, options, lease, new GroupCommitter(repository, "r", options, lease));
    }

    // One node's checkpoint at a step (the same file names on every node), pushed as its part.
    private async Task<Snapshot> PushPartAsync(Node node, int rank, long step)
    {
        var directory = _temp.Combine($"node-{rank}-step-{step}");
        Directory.CreateDirectory(directory);
        await File.WriteAllBytesAsync(Path.Combine(directory, "model.bin"), Content(step, rank));
        await File.WriteAllTextAsync(Path.Combine(directory, "latest"), step.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await node.Repository.PushAsync(directory, "r", new PushOptions { Step = step, Lease = node.Lease, Commit = node.Committer.CommitPartAsync });
    }

    private static byte[] Content(long step, int rank) =>
        [.. Enumerable.Range(0, 300_000).Select(i => (byte)((i * 31) ^ (int)(step * 7) ^ (rank * 13)))];

    public async ValueTask DisposeAsync()
    {
        foreach (var lease in _leases)
        {
            await lease.DisposeAsync();
        }

        _temp.Dispose();
    }

    private sealed record Node(Repository Repository, GroupOptions Options, WriterLease Lease, GroupCommitter Committer);

    private sealed class FailingWrites(IObjectStore inner, Func<string, bool> fails) : ObjectStoreDecorator(inner)
    {
        public override Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default) =>
            fails(key) ? throw new StoreException(StoreErrorReason.Full, Location, key, "no space left on device") : base.PutAsync(key, data, mode, cancellationToken);
    }
}
