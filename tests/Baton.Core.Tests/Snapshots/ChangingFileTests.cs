using Baton.Snapshots;
using Baton.Testing;

namespace Baton.Tests.Snapshots;

/// <summary>A trainer that rewrites a checkpoint while it is pushed must never get a torn snapshot committed.</summary>
public sealed class ChangingFileTests : IDisposable
{
    private static readonly DateTime LongAgo = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly TempDirectory _temp = new();

    public enum Change
    {
        Append,
        RewriteInPlace,
        Truncate,
        Delete,
        ReplaceWithSameSizeAndTime,
    }

    [Theory(Timeout = 60_000)]
    [InlineData(Change.Append)]
    [InlineData(Change.RewriteInPlace)]
    [InlineData(Change.Truncate)]
    [InlineData(Change.Delete)]
    [InlineData(Change.ReplaceWithSameSizeAndTime)]
    public async Task A_file_that_changes_while_it_is_read_fails_the_push_and_commits_nothing(Change change)
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        var file = Path.Combine(source, "model.bin");
        TestData.WriteRandomFile(file, 4_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "zz-later.bin"), 100_000, 2);
        File.SetLastWriteTimeUtc(file, LongAgo); // so that any write moves the time, whatever the clock's granularity
        await repository.PushAsync(source, "r");

        await File.WriteAllTextAsync(Path.Combine(source, "step.txt"), "2"); // the next checkpoint
        var changed = 0;
        var progress = new SyncProgress<TransferProgress>(p =>
        {
            // After the first chunk of model.bin has been read, and exactly once.
            if (p.Bytes > 0 && Interlocked.Exchange(ref changed, 1) == 0)
            {
                Apply(change, file);
            }
        });
        File.SetLastWriteTimeUtc(file, LongAgo.AddDays(1)); // model.bin must be read again, not reused

        var error = await Assert.ThrowsAsync<CheckpointChangedException>(
            () => repository.PushAsync(source, "r", new PushOptions { Progress = progress, Workers = 1 }));

        Assert.Equal(1, changed);
        Assert.Equal("model.bin", error.Path);
        Assert.Contains("'model.bin'", error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was committed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Single(await repository.ListSnapshotsAsync("r"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_written_continuously_by_another_thread_is_never_committed()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        var file = Path.Combine(source, "log.bin");
        TestData.WriteRandomFile(file, 2_000_000, 3);
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            await using var stream = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            var block = new byte[4096];
            while (!stop.IsCancellationRequested)
            {
                await stream.WriteAsync(block);
                await stream.FlushAsync();
                Interlocked.Increment(ref writes);
                await Task.Delay(1);
            }
        });
        while (Volatile.Read(ref writes) < 3)
        {
            await Task.Delay(5);
        }

        // The writer appends every millisecond from before the scan until after the read: the size always moves.
        var error = await Assert.ThrowsAsync<CheckpointChangedException>(
            () => repository.PushAsync(source, "r", new PushOptions { Progress = new SyncProgress<TransferProgress>(_ => Thread.Sleep(5)) }));
        await stop.CancelAsync();
        await writer;

        Assert.Equal("log.bin", error.Path);
        Assert.Empty(await repository.ListSnapshotsAsync("r"));
    }

    private static void Apply(Change change, string file)
    {
        switch (change)
        {
            case Change.Append:
                using (var stream = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
                {
                    stream.Write(new byte[1000]);
                }

                break;
            case Change.RewriteInPlace:
                using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                {
                    var junk = new byte[stream.Length];
                    new Random(99).NextBytes(junk);
                    stream.Write(junk);
                }

                break;
            case Change.Truncate:
                using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                {
                    stream.SetLength(stream.Length / 2);
                }

                break;
            case Change.Delete:
                File.Delete(file);
                break;
            case Change.ReplaceWithSameSizeAndTime:
                // The trainer's atomic save: a new file renamed over the old one. Only the inode tells them apart.
                var replacement = file + ".new";
                TestData.WriteRandomFile(replacement, new FileInfo(file).Length, 77);
                File.SetLastWriteTimeUtc(replacement, File.GetLastWriteTimeUtc(file));
                File.Move(replacement, file, overwrite: true);
                break;
        }
    }

    public void Dispose() => _temp.Dispose();
}
