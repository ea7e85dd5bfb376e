using System.Collections.Concurrent;
using Baton.Maintenance;
using Baton.Retention;
using Baton.Snapshots;
using Baton.Testing;

namespace Baton.Tests.Maintenance;

public sealed class PruneProgressTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Prune_reports_each_deleted_pack_and_ends_at_the_bytes_it_freed()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        for (var step = 1; step <= 3; step++)
        {
            TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 2_000_000, step);
            await repository.PushAsync(source, "r", new() { Step = step });
        }

        var reports = new ConcurrentQueue<TransferProgress>();
        var result = await new Pruner(repository) { Progress = new SyncProgress<TransferProgress>(reports.Enqueue) }
            .PruneAsync("r", new RetentionPolicy { KeepLast = 1 });

        // Every deleted pack is reported: those freed and those whose live chunks were repacked first.
        var c = result.Collection;
        var packs = c.PacksDeleted + c.PacksRepacked;
        Assert.True(c.PacksDeleted > 0);
        Assert.Equal(packs, reports.Count);
        var last = reports.Last();
        Assert.Equal(new TransferProgress(last.TotalBytes, last.TotalBytes, packs, packs), last);
        Assert.InRange(last.TotalBytes, c.BytesFreed, long.MaxValue);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.Bytes < p.Second.Bytes && p.First.Files < p.Second.Files));
    }

    public void Dispose() => _temp.Dispose();
}
