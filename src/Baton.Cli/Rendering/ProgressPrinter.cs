using System.Diagnostics;
using Baton.Snapshots;

namespace Baton.Cli.Rendering;

/// <summary>
/// Progress on stderr: one redrawn line on a terminal, a plain line every few seconds otherwise (notebook cells and
/// log files), nothing when quiet.
/// </summary>
internal sealed class ProgressPrinter : IProgress<TransferProgress>, IDisposable
{
    private readonly string _verb;
    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly TimeSpan _interval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private TimeSpan _last = TimeSpan.FromDays(-1);
    private TransferProgress _latest;
    private bool _drawn;

    private ProgressPrinter(string verb, TextWriter output, bool interactive)
    {
        _verb = verb;
        _output = output;
        _interactive = interactive;
        _interval = interactive ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(5);
    }

    public static ProgressPrinter? Create(string verb, bool quiet) =>
        quiet ? null : new ProgressPrinter(verb, Console.Error, !Console.IsErrorRedirected);

    public void Report(TransferProgress value)
    {
        lock (_gate)
        {
            _latest = value;
            var now = _clock.Elapsed;
            if (now - _last < _interval)
            {
                return;
            }

            _last = now;
            Draw();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_drawn && _interactive)
            {
                _output.Write("\r\x1b[K");
            }
        }
    }

    private void Draw()
    {
        var p = _latest;
        var percent = p.TotalBytes > 0 ? 100.0 * p.Bytes / p.TotalBytes : 100.0;
        var line = $"{_verb} {percent,5:0.0}%  {Units.Bytes(p.Bytes)} / {Units.Bytes(p.TotalBytes)}  {Units.Rate(p.Bytes, _clock.Elapsed)}  files {p.Files}/{p.TotalFiles}";
        if (_interactive)
        {
            _output.Write("\r\x1b[K" + line);
        }
        else
        {
            _output.WriteLine(line);
        }

        _drawn = true;
    }
}
