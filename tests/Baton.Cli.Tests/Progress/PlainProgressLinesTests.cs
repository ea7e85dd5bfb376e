using Baton.Cli.Rendering;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Progress;

public sealed class PlainProgressLinesTests
{
    private const long MiB = 1 << 20;
    private readonly FakeTimeProvider _time = new();
    private readonly StringWriter _output = new();

    [Fact(Timeout = 10_000)]
    public async Task The_first_line_comes_at_once_without_a_rate_and_later_lines_every_interval_with_one()
    {
        var lines = new PlainProgressLines("push", _output, _time);

        await lines.RunAsync(sink =>
        {
            sink!.Report(new TransferProgress(1 * MiB, 8 * MiB, 0, 4));
            _time.Advance(TimeSpan.FromSeconds(1));
            sink.Report(new TransferProgress(2 * MiB, 8 * MiB, 1, 4));
            _time.Advance(PlainProgressLines.Interval);
            sink.Report(new TransferProgress(6 * MiB, 8 * MiB, 3, 4));
            return Task.FromResult(0);
        });

        var printed = _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, printed.Length);
        Assert.Equal("push  12.5%  1.0 MiB / 8.0 MiB  files 0/4", printed[0]);
        Assert.Equal("push  75.0%  6.0 MiB / 8.0 MiB  1.0 MiB/s  ETA 2s  files 3/4", printed[1]);
        Assert.DoesNotContain('\u001b', _output.ToString());
    }

    [Fact]
    public void Without_a_file_count_the_line_names_only_bytes()
    {
        var reading = new TransferReading(new TransferProgress(512, 1024, 0, 0), TimeSpan.Zero, null, null);

        Assert.Equal("check  50.0%  512 B / 1.0 KiB", PlainProgressLines.Line("check", reading));
    }

    [Fact]
    public void A_failure_after_progress_lines_is_still_the_one_error_line_tests_read()
    {
        var reading = new TransferReading(new TransferProgress(10 * MiB, 16 * MiB, 1, 2), TimeSpan.FromSeconds(6), 2.0 * MiB, TimeSpan.FromSeconds(3));
        var stderr = $"{PlainProgressLines.Line("pull", reading)}\nbaton: snapshot 1 (run 'r', #2): pack 'x' is missing\n";

        var result = new CliResult(4, "", stderr);

        Assert.Equal(["baton: snapshot 1 (run 'r', #2): pack 'x' is missing"], result.ErrorLines);
    }
}
