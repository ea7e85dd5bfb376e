using Baton.Testing;

namespace Baton.Tests;

public sealed class ChangingFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task A_file_that_grows_while_it_is_pushed_fails_the_push_with_one_line_and_commits_nothing()
    {
        var source = _temp.Combine("src");
        var store = _temp.Combine("store");
        // 'model.bin' is read before 'train.log': the time it takes is part of the window in which the log must not move.
        TestData.WriteRandomFile(Path.Combine(source, "model.bin"), 24_000_000, 1);
        var log = Path.Combine(source, "train.log");
        await File.WriteAllTextAsync(log, "step 0\n");
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--quiet");

        // A trainer that appends to its log without pause, from before the push starts until after it ends. Its own
        // thread, so that a busy thread pool cannot hold it back while the push runs.
        using var stop = new CancellationTokenSource();
        var lines = 0;
        var writer = new Thread(() =>
        {
            using var stream = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            while (!stop.IsCancellationRequested)
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes($"step {Interlocked.Increment(ref lines)}\n"));
                stream.Flush();
            }
        });
        writer.Start();
        while (Volatile.Read(ref lines) < 5)
        {
            await Task.Delay(5);
        }

        // A process of its own: hosted in this one, the push's garbage collections would pause the writer too.
        var push = await BatonCli.RunAsync(["push", source, "--store", store, "--run", "r", "--quiet"], outOfProcess: true);
        await stop.CancelAsync();
        writer.Join();

        Cli.AssertOneLineError(push, 1, "'train.log'", "while it was being pushed", "nothing was committed");
        Assert.Single(await Cli.ListAsync(store, "--run", "r"));
        Assert.Equal(0, (await Cli.RunAsync("check", "--store", store, "--quiet")).ExitCode);
    }

    public void Dispose() => _temp.Dispose();
}
