using Spectre.Console;

namespace Baton.Cli.Rendering;

/// <summary>A live progress bar on a terminal (Spectre.Console), cleared when the operation ends.</summary>
internal sealed class LiveProgressBar(string verb, IAnsiConsole console, TimeProvider time) : IProgressDisplay
{
    /// <summary>A bar on standard error, which the caller found to be a terminal.</summary>
    public static LiveProgressBar OnStandardError(string verb) => new(verb, AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(CliConsole.Error),
        Ansi = AnsiSupport.Yes,
        ColorSystem = ColorSystemSupport.Detect,
        Interactive = InteractionSupport.Yes,
    }), TimeProvider.System);

    public Task<T> RunAsync<T>(Func<IProgress<TransferProgress>?, Task<T>> operation)
    {
        var meter = new TransferMeter(time);
        return new Spectre.Console.Progress(console) { AutoClear = true }
            .ExcludeVerticalPadding()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = null }, new PercentageColumn(), new TransferColumn(meter))
            .StartAsync(context =>
            {
                var task = context.AddTask(Markup.Escape(verb));
                task.IsIndeterminate = true;
                return operation(new Sink(task, meter));
            });
    }

    // Feeds the meter (for the text column) and the Spectre task (for the bar and the percentage).
    private sealed class Sink(ProgressTask task, TransferMeter meter) : IProgress<TransferProgress>
    {
        private readonly Lock _gate = new();

        public void Report(TransferProgress value)
        {
            lock (_gate)
            {
                var p = meter.Update(value).Progress;
                task.IsIndeterminate = false;
                task.MaxValue = Math.Max(1, p.TotalBytes);
                task.Value = p.TotalBytes > 0 ? Math.Min(p.Bytes, p.TotalBytes) : 1;
            }
        }
    }
}
