using System.Diagnostics;

namespace Baton.Platform;

/// <summary>Whether a writer recorded in the store is known to be gone.</summary>
internal static class LocalProcess
{
    /// <summary>
    /// True only when the record was written on this host and no process with that id runs here any more: such a
    /// writer was killed and will never heartbeat again. Any doubt (another host, a reused id) answers false.
    /// </summary>
    public static bool IsGone(string recordedHost, int processId, string thisHost)
    {
        if (!string.Equals(recordedHost, thisHost, StringComparison.Ordinal) || processId <= 0)
        {
            return false;
        }

        if (processId == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(processId);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}
