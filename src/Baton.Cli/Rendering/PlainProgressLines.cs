using System.Globalization;

namespace Baton.Cli.Rendering;

/// <summary>
/// Progress as plain lines, one every few seconds (the first at once), for output that is not a terminal: notebook
/// cells and log files, where a redrawn bar would be a mess of escape codes.
/// </summary>
internal sealed class PlainProgressLines(string verb, TextWriter output, TimeProvider time) : IProgressDisplay, IProgress<TransferProgress>
{
    /// <summary>Time between two lines.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly TransferMeter _meter = new(time);
    private readonly Lock _gate = new();
    private TimeSpan? _last;

    public Task<T> RunAsync<T>(Func<IProgress<TransferProgress>?, Task<T>> operation) => operation(this);

    public void Report(TransferProgress value)
    {
        lock (_gate)
        {
            var reading = _meter.Update(value);
            if (_last is { } last && reading.Elapsed - last < Interval)
            {
                return;
            }

            _last = reading.Elapsed;
            output.WriteLine(Line(verb, reading));
            output.Flush();
        }
    }

    public static string Line(string verb, TransferReading reading) =>
        string.Create(CultureInfo.InvariantCulture, $"{verb} {ProgressText.Percent(reading),5:0.0}%  {ProgressText.Details(reading)}");
}
