namespace Baton.Platform;

/// <summary>Whether a writer recorded in the store is known to be gone.</summary>
internal static class LocalProcess
{
    /// <summary>
    /// True only when the record was written by a process of this very machine and pid namespace (same host name,
    /// boot id and pid namespace) and that process no longer exists: its pid is absent, or now belongs to a process
    /// that started at another time. Such a writer was killed and will never heartbeat again. Any doubt (another
    /// host, a container with the host's name, a record without the identity fields) answers false: the caller then
    /// waits for the heartbeat to expire.
    /// </summary>
    public static bool IsGone(string recordedHost, int processId, string? bootId, long? pidNamespace, long? startTime, string thisHost)
    {
        if (!string.Equals(recordedHost, thisHost, StringComparison.Ordinal) || processId <= 0 || startTime is null)
        {
            return false;
        }

        var here = ProcessIdentity.Current;
        if (!here.IsComplete || bootId != here.BootId || pidNamespace != here.PidNamespace)
        {
            return false;
        }

        if (processId == Environment.ProcessId)
        {
            return false;
        }

        var now = ProcessIdentity.ReadStartTime(processId);
        return now is null ? !File.Exists($"/proc/{processId}/stat") : now != startTime;
    }
}
