using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Baton.Cli.Rendering;

/// <summary>
/// <c>--json</c>: progress as JSON Lines on standard output, at most a few a second (the first at once, the last when the
/// operation ends), for tools that read a command's output as it runs. The command then writes its result event.
/// Only counts and times are written, never anything from the command line or the environment.
/// </summary>
internal sealed class JsonProgressEvents(string verb, TextWriter output, TimeProvider time) : IProgressDisplay, IProgress<TransferProgress>
{
    /// <summary>Least time between two progress events.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly TransferMeter _meter = new(time);
    private readonly Lock _gate = new();
    private TimeSpan? _last;
    private TransferProgress _written;

    public async Task<T> RunAsync<T>(Func<IProgress<TransferProgress>?, Task<T>> operation)
    {
        var result = await operation(this).ConfigureAwait(false);
        lock (_gate)
        {
            // The last word on progress: what the operation reached, if the last event did not already say it.
            var reading = _meter.Read();
            if (_meter.Started && reading.Progress != _written)
            {
                Write(reading);
            }
        }

        return result;
    }

    public void Report(TransferProgress value)
    {
        lock (_gate)
        {
            var reading = _meter.Update(value);
            if (_last is null || reading.Elapsed - _last >= Interval)
            {
                Write(reading);
            }
        }
    }

    private void Write(TransferReading reading)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            var p = reading.Progress;
            json.WriteStartObject();
            json.WriteString("event", "progress");
            json.WriteString("verb", verb);
            json.WriteNumber("bytes", p.Bytes);
            json.WriteNumber("totalBytes", p.TotalBytes);
            json.WriteNumber("files", p.Files);
            json.WriteNumber("totalFiles", p.TotalFiles);
            json.WriteNumber("seconds", Math.Round(reading.Elapsed.TotalSeconds, 3));
            if (reading.BytesPerSecond is { } rate)
            {
                json.WriteNumber("bytesPerSecond", Math.Round(rate));
            }

            if (reading.Remaining is { } remaining)
            {
                json.WriteNumber("etaSeconds", Math.Round(remaining.TotalSeconds, 1));
            }

            json.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
        output.Flush();
        (_last, _written) = (reading.Elapsed, reading.Progress);
    }
}
