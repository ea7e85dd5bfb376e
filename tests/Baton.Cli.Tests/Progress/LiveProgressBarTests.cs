using Baton.Cli.Rendering;
using Microsoft.Extensions.Time.Testing;
using Spectre.Console.Testing;

namespace Baton.Tests.Progress;

public sealed class LiveProgressBarTests
{
    private const long MiB = 1 << 20;

    [Fact(Timeout = 30_000)]
    public async Task The_bar_shows_the_percentage_bytes_rate_eta_and_files()
    {
        var console = new TestConsole().Interactive().SupportsAnsi(true).Width(160);
        var time = new FakeTimeProvider();
        var bar = new LiveProgressBar("push", console, time);

        var answer = await bar.RunAsync(sink =>
        {
            sink!.Report(new TransferProgress(0, 4 * MiB, 0, 4));
            time.Advance(TimeSpan.FromSeconds(2));
            sink.Report(new TransferProgress(2 * MiB, 4 * MiB, 2, 4));
            return Task.FromResult(42);
        });

        Assert.Equal(42, answer);
        var shown = console.Output;
        Assert.Contains("push", shown, StringComparison.Ordinal);
        Assert.Contains("50%", shown, StringComparison.Ordinal);
        Assert.Contains("2.0 MiB / 4.0 MiB", shown, StringComparison.Ordinal);
        Assert.Contains("1.0 MiB/s", shown, StringComparison.Ordinal);
        Assert.Contains("ETA 2s", shown, StringComparison.Ordinal);
        Assert.Contains("files 2/4", shown, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failing_operation_ends_the_bar_and_its_exception_reaches_the_caller()
    {
        var console = new TestConsole().Interactive().SupportsAnsi(true);
        var bar = new LiveProgressBar("pull", console, new FakeTimeProvider());

        await Assert.ThrowsAsync<IntegrityException>(() => bar.RunAsync<int>(_ => throw new IntegrityException("chunk 1234 is corrupt")));
    }
}
