using Baton.Storage;
using Baton.Leases;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Groups;

/// <summary>One writer per run becomes one job attempt per run: the nodes of an attempt share its epoch.</summary>
public sealed class GroupLeaseTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task Nodes_of_one_attempt_join_its_epoch_and_another_job_is_refused_while_it_lives()
    {
        var repository = await OpenAsync("node-a");
        await repository.PushAsync(Source(), "r", new() { Step = 40 });
        await using var first = await AcquireAsync(repository, "job.0", rank: 1);
        await using var second = await AcquireAsync(await OpenAsync("node-b"), "job.0", rank: 0);

        Assert.False(first.Joined);
        Assert.True(second.Joined);
        Assert.Equal(first.Epoch, second.Epoch);
        // The claim fixes the step every node starts from.
        Assert.Equal(40, second.Claim!.StartStep);
        Assert.Equal("job.0", second.Claim.Group);
        Assert.Equal(2, second.Claim.Nodes);

        var other = await OpenAsync("node-c");
        var refused = await Assert.ThrowsAsync<ConflictException>(() => AcquireAsync(other, "job.1", rank: 0));
        Assert.Contains("job.0", refused.Message, StringComparison.Ordinal);

        // A node that comes back with the same group id (its launcher restarted) rejoins.
        await using var back = await AcquireAsync(await OpenAsync("node-a"), "job.0", rank: 1);
        Assert.True(back.Joined);
        Assert.Equal(first.Epoch, back.Epoch);
    }

    [Fact(Timeout = 60_000)]
    public async Task Take_over_fences_the_whole_attempt_and_a_different_node_count_is_refused()
    {
        var repository = await OpenAsync("node-a");
        await using var old = await AcquireAsync(repository, "job.0", rank: 0);
        await using var oldPeer = await AcquireAsync(await OpenAsync("node-b"), "job.0", rank: 1);

        var mismatch = await Assert.ThrowsAsync<UsageException>(() => AcquireAsync(repository, "job.0", rank: 0, nodes: 3));
        Assert.Contains("--nodes", mismatch.Message, StringComparison.Ordinal);

        await using var taker = await WriterLease.AcquireAsync(await OpenAsync("node-c"), "r",
            new LeaseOptions { GroupId = "job.1", GroupNodes = 2, GroupRank = 0, TakeOver = true });

        Assert.Equal(old.Epoch + 1, taker.Epoch);
        await Assert.ThrowsAsync<ConflictException>(() => old.EnsureCurrentAsync());
        await Assert.ThrowsAsync<ConflictException>(() => oldPeer.EnsureCurrentAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_attempt_whose_nodes_all_released_is_followed_without_a_fence()
    {
        var repository = await OpenAsync("node-a");
        await (await AcquireAsync(repository, "job.0", rank: 0)).DisposeAsync();
        await (await AcquireAsync(repository, "job.0", rank: 1)).DisposeAsync();

        await using var next = await AcquireAsync(await OpenAsync("node-b"), "job.1", rank: 0);

        Assert.False(next.Joined);
        Assert.Null(next.TookOverFrom);
        Assert.Empty(await repository.Store.ListAllAsync(repository.SnapshotPrefix("r")));
    }

    private static Task<WriterLease> AcquireAsync(Repository repository, string group, int rank, int nodes = 2) =>
        WriterLease.AcquireAsync(repository, "r", new LeaseOptions { GroupId = group, GroupNodes = nodes, GroupRank = rank });

    private string Source()
    {
        var dir = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(dir, "w.bin"), 50_000, 1);
        return dir;
    }

    private Task<Repository> OpenAsync(string host) => Repository.OpenOrInitAsync(new FolderStore(_temp.Combine("store")), new RepositoryOptions { HostName = host });

    public void Dispose() => _temp.Dispose();
}
