using System.Collections.Concurrent;
using Baton.Snapshots;
using Baton.Testing;

namespace Baton.Tests.Snapshots;

public sealed class PushProgressTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task A_push_that_reuses_unchanged_files_still_reports_all_bytes_and_files_done()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "frozen.bin"), 3_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "head.bin"), 500_000, 2);
        await repository.PushAsync(source, "r");
        TestData.WriteRandomFile(Path.Combine(source, "head.bin"), 500_000, 3);

        var reports = new ConcurrentQueue<TransferProgress>();
        await repository.PushAsync(source, "r", new PushOptions { Progress = new SyncProgress<TransferProgress>(reports.Enqueue) });

        Assert.Equal(new TransferProgress(3_500_000, 3_500_000, 2, 2), reports.MaxBy(p => (p.Bytes, p.Files)));
    }

    public void Dispose() => _temp.Dispose();
}
