using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Baton.Supervision;

/// <summary>
/// Catches SIGTERM, SIGINT and SIGHUP for the supervisor (their default action would end it without a final push)
/// and hands them to the supervisor in order.
/// </summary>
public sealed class SignalRelay : IDisposable
{
    private readonly Channel<int> _received = Channel.CreateUnbounded<int>();
    private readonly List<PosixSignalRegistration> _registrations = [];

    /// <summary>Starts catching the signals.</summary>
    public SignalRelay()
    {
        foreach (var (signal, number) in new[] { (PosixSignal.SIGTERM, SignalNames.Term), (PosixSignal.SIGINT, SignalNames.Int), (PosixSignal.SIGHUP, SignalNames.Hup) })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                _received.Writer.TryWrite(number);
            }));
        }
    }

    /// <summary>The signals received, as numbers, in order.</summary>
    public ChannelReader<int> Received => _received.Reader;

    /// <summary>Stops catching the signals.</summary>
    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _received.Writer.TryComplete();
    }
}
