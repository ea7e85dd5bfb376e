using System.Text.Json;
using Baton.Cli.Commands;
using Baton.Cli.Rendering;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Progress;

public sealed class JsonProgressEventsTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly StringWriter _output = new();

    [Fact(Timeout = 10_000)]
    public async Task Events_are_rate_limited_and_the_last_state_is_written_when_the_operation_ends()
    {
        var events = new JsonProgressEvents("pull", _output, _time);

        await events.RunAsync(sink =>
        {
            for (var i = 1; i <= 10; i++)
            {
                sink!.Report(new TransferProgress(i * 100, 1000, i, 10));
                _time.Advance(TimeSpan.FromMilliseconds(120));
            }

            return Task.FromResult(0);
        });

        var lines = JsonLines.Parse(_output.ToString());
        Assert.InRange(lines.Count, 2, 5);
        Assert.All(lines, l => Assert.Equal("progress", JsonLines.Event(l)));
        Assert.All(lines, l => Assert.Equal("pull", l.GetProperty("verb").GetString()));
        Assert.Equal(100, lines[0].GetProperty("bytes").GetInt64());
        Assert.Equal(1000, lines[^1].GetProperty("bytes").GetInt64());
        Assert.Equal(10, lines[^1].GetProperty("files").GetInt64());
        Assert.Equal(10, lines[^1].GetProperty("totalFiles").GetInt64());
    }

    [Fact(Timeout = 10_000)]
    public async Task Bytes_never_decrease_even_when_reports_arrive_out_of_order()
    {
        var events = new JsonProgressEvents("push", _output, _time);

        await events.RunAsync(sink =>
        {
            sink!.Report(new TransferProgress(700, 1000, 2, 4));
            _time.Advance(TimeSpan.FromSeconds(1));
            sink.Report(new TransferProgress(600, 1000, 1, 4));
            return Task.FromResult(0);
        });

        var bytes = JsonLines.Parse(_output.ToString()).Select(l => l.GetProperty("bytes").GetInt64()).ToList();
        Assert.Equal([700], bytes.Distinct());
    }

    [Fact]
    public void The_result_event_names_itself_and_then_carries_the_fields_of_the_result_document()
    {
        var view = new StageView("/data/a.bin", 1, 1000, 1000, 0, 0, 0.5);

        JsonResultEvent.Write(_output, "stage", view, StageJson.Default.StageView);

        var text = _output.ToString();
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var result = JsonLines.Result(text);
        Assert.Equal(["event", "verb", "destination", "files", "bytes", "bytesDownloaded", "filesFromCache", "filesUnchanged", "seconds"],
            result.EnumerateObject().Select(p => p.Name));
        Assert.Equal("stage", result.GetProperty("verb").GetString());
        Assert.Equal(JsonValueKind.Number, result.GetProperty("bytesDownloaded").ValueKind);
    }
}
