using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Storage;

public sealed class StoreProbeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task A_folder_passes_every_check_and_the_probe_leaves_nothing_behind()
    {
        await using var store = new FolderStore(_temp.Combine("ok"));
        var verdicts = await ProbeAsync(store);

        Assert.Equal(["store", "reach", "credentials", "write", "read", "list", "create-if-absent", "throughput", "delete"], verdicts.Select(v => v.Check));
        Assert.All(verdicts, v => Assert.Equal(ProbeOutcome.Ok, v.Outcome));
        Assert.Empty(await store.ListAllAsync(""));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_that_claims_atomic_create_but_replaces_objects_fails_the_create_if_absent_check()
    {
        await using var store = new IgnoresCreateNew(new FolderStore(_temp.Combine("liar")));
        var verdicts = await ProbeAsync(store);

        var check = verdicts.Single(v => v.Check == "create-if-absent");
        Assert.Equal(ProbeOutcome.Failed, check.Outcome);
        Assert.Contains("replaced", check.Detail, StringComparison.Ordinal);
        Assert.Equal(ProbeOutcome.Ok, verdicts.Single(v => v.Check == "delete").Outcome);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_that_cannot_be_written_fails_the_write_and_skips_the_rest()
    {
        await using var store = new FolderStore(_temp.Combine("not-mounted", "drive", "runs"));
        var verdicts = await ProbeAsync(store);

        var write = verdicts.Single(v => v.Check == "write");
        Assert.Equal(ProbeOutcome.Failed, write.Outcome);
        Assert.Contains("is the drive mounted", write.Detail, StringComparison.Ordinal);
        Assert.All(verdicts.Where(v => v.Check is "read" or "list" or "create-if-absent" or "throughput"), v => Assert.Equal(ProbeOutcome.Skipped, v.Outcome));
    }

    [Fact(Timeout = 60_000)]
    public async Task Refused_credentials_fail_the_credentials_check()
    {
        await using var store = new FaultInjectingStore(new FolderStore(_temp.Combine("denied")), new FaultOptions { FailRate = 1, Reason = StoreErrorReason.Unauthorized });
        var verdicts = await ProbeAsync(store);

        Assert.Equal(ProbeOutcome.Failed, verdicts.Single(v => v.Check == "credentials").Outcome);
        Assert.Equal(ProbeOutcome.Skipped, verdicts.Single(v => v.Check == "write").Outcome);
    }

    public void Dispose() => _temp.Dispose();

    private static async Task<List<ProbeVerdict>> ProbeAsync(IObjectStore store)
    {
        var verdicts = new List<ProbeVerdict>();
        await foreach (var verdict in new StoreProbe(store, new StoreProbeOptions { ThroughputBytes = 1 << 20 }).RunAsync())
        {
            verdicts.Add(verdict);
        }

        return verdicts;
    }

    // Claims atomic create-if-absent (the folder's capabilities) but overwrites instead.
    private sealed class IgnoresCreateNew(IObjectStore inner) : ObjectStoreDecorator(inner)
    {
        public override Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default) =>
            Inner.PutAsync(key, data, PutMode.Overwrite, cancellationToken);
    }
}
