using System.Runtime.InteropServices;

namespace Baton.Supervision;

/// <summary>Sends signals to processes and process groups by id (a process that is gone is not an error).</summary>
public static class ProcessSignals
{
    /// <summary>Sends <paramref name="signal"/> to process <paramref name="processId"/>; a negative id names a process group.</summary>
    /// <returns>Whether the target existed.</returns>
    public static bool Send(int processId, int signal)
    {
        if (ProcessInterop.Kill(processId, signal) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == ProcessInterop.NoSuchProcess
            ? false
            : throw new InvalidOperationException($"kill({processId}, {SignalNames.Name(signal)}) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
