using System.Threading.Channels;
using Baton.Journal;

namespace Baton.Supervision;

/// <summary>Why a supervised run is asked to stop.</summary>
/// <param name="Outcome">The outcome the run ends with.</param>
/// <param name="Signal">The signal that asked, when one did.</param>
/// <param name="Reason">The leg's end reason.</param>
/// <param name="Message">What the user is told.</param>
internal sealed record StopRequest(SupervisorOutcome Outcome, int? Signal, string Reason, string Message);

/// <summary>
/// How a supervised run is asked to stop, from its start (a signal while the lease is awaited) to its end: the first
/// request wins and cancels <see cref="Stopping"/>; a second signal cancels <see cref="Abort"/> (kill at once, abandon
/// the upload in flight).
/// </summary>
internal sealed class StopSwitch(ISupervisorLog log) : IDisposable
{
    private int _signalsSeen;

    /// <summary>The first stop request.</summary>
    public TaskCompletionSource<StopRequest> Request { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Cancelled by the first stop request.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    /// <summary>Cancelled by a second signal.</summary>
    public CancellationTokenSource Abort { get; } = new();

    /// <summary>Asks the run to stop; only the first request counts.</summary>
    public async Task RequestAsync(StopRequest request)
    {
        if (Request.TrySetResult(request))
        {
            await Stopping.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Turns the signals the process receives into requests until cancelled.</summary>
    public async Task PumpAsync(ChannelReader<int> signals, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var signal in signals.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = SignalNames.Name(signal);
                if (_signalsSeen++ == 0)
                {
                    log.Info($"{name} received: stopping well (a second signal kills the trainer at once)");
                    await RequestAsync(new StopRequest(SupervisorOutcome.Signaled, signal, $"{LegEndReasons.Signal} {name}", $"stopped by {name}")).ConfigureAwait(false);
                }
                else
                {
                    log.Warn($"{name} again: killing the trainer now; an upload in flight is abandoned (nothing partial is committed)");
                    await Abort.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stopping.Dispose();
        Abort.Dispose();
    }
}
