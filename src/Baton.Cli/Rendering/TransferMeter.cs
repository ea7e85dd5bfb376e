
namespace Baton.Cli.Rendering;

/// <summary>What a <see cref="TransferMeter"/> knows at one instant.</summary>
/// <param name="Progress">The furthest progress reported so far (bytes and files never go backwards).</param>
/// <param name="Elapsed">Time since the meter started.</param>
/// <param name="BytesPerSecond">The smoothed rate; null until it means something.</param>
/// <param name="Remaining">Time left at the smoothed rate; null while unknown.</param>
internal readonly record struct TransferReading(TransferProgress Progress, TimeSpan Elapsed, double? BytesPerSecond, TimeSpan? Remaining);

/// <summary>
/// Turns progress reports into a rate and an ETA worth showing. Reports come from worker threads and may arrive out of
/// order, so the furthest one wins. A rate over the first instants is noise (a few kilobytes over a few microseconds),
/// so none is given before <see cref="Warmup"/>; after that the rate is a moving average, so that the ETA does not jump
/// with every burst.
/// </summary>
internal sealed class TransferMeter
{
    /// <summary>How long a transfer runs before its rate is shown.</summary>
    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(1);

    // Rate samples closer together than this are merged: the instant rate over a few milliseconds is noise too.
    private static readonly TimeSpan SampleSpacing = TimeSpan.FromMilliseconds(500);

    // Time constant of the exponential moving average, in seconds.
    private const double SmoothingSeconds = 3;

    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly Lock _gate = new();
    private TransferProgress _latest;
    private TimeSpan _sampledAt;
    private long _sampledBytes;
    private double? _rate;

    public TransferMeter(TimeProvider time)
    {
        _time = time;
        _start = time.GetTimestamp();
    }

    /// <summary>Whether any progress was reported yet.</summary>
    public bool Started { get; private set; }

    /// <summary>Records a report and returns the reading after it.</summary>
    public TransferReading Update(TransferProgress value)
    {
        lock (_gate)
        {
            _latest = new TransferProgress(Math.Max(_latest.Bytes, value.Bytes), value.TotalBytes, Math.Max(_latest.Files, value.Files), value.TotalFiles);
            Started = true;
            var now = _time.GetElapsedTime(_start);
            if (now >= Warmup && now - _sampledAt >= SampleSpacing)
            {
                var span = (now - _sampledAt).TotalSeconds;
                var instant = (_latest.Bytes - _sampledBytes) / span;
                // The first rate is the average since the start; later ones move towards each new sample.
                _rate = _rate is { } rate ? rate + ((1 - Math.Exp(-span / SmoothingSeconds)) * (instant - rate)) : _latest.Bytes / now.TotalSeconds;
                (_sampledAt, _sampledBytes) = (now, _latest.Bytes);
            }

            return ReadLocked(now);
        }
    }

    /// <summary>The reading now, without a new report.</summary>
    public TransferReading Read()
    {
        lock (_gate)
        {
            return ReadLocked(_time.GetElapsedTime(_start));
        }
    }

    private TransferReading ReadLocked(TimeSpan now)
    {
        var left = _latest.TotalBytes - _latest.Bytes;
        TimeSpan? remaining = _rate is > 0 && left >= 0 ? TimeSpan.FromSeconds(left / _rate.Value) : null;
        return new TransferReading(_latest, now, _rate, remaining);
    }
}
