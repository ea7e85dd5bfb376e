using System.Globalization;

namespace Baton.Platform;

/// <summary>
/// What tells one process apart from every other process that ever had its host name and pid: the kernel's boot id,
/// the pid namespace (a container, or an <c>unshare</c>d tree, numbers its processes on its own) and the process's
/// start time in clock ticks since boot. Null fields are unknown (not Linux, or written by an older Baton).
/// </summary>
internal sealed record ProcessIdentity(string? BootId, long? PidNamespace, long? StartTime)
{
    private static readonly Lazy<ProcessIdentity> s_current = new(() => Of(Environment.ProcessId));

    /// <summary>This process.</summary>
    public static ProcessIdentity Current => s_current.Value;

    /// <summary>Whether every field is known.</summary>
    public bool IsComplete => BootId is not null && PidNamespace is not null && StartTime is not null;

    /// <summary>The identity of process <paramref name="processId"/> as this process sees it (fields null where unreadable).</summary>
    public static ProcessIdentity Of(int processId) => new(ReadBootId(), ReadPidNamespace(), ReadStartTime(processId));

    /// <summary>The start time of a process in this pid namespace, or null when no such process exists (or it cannot be read).</summary>
    public static long? ReadStartTime(int processId)
    {
        if (!OperatingSystem.IsLinux() || processId <= 0)
        {
            return null;
        }

        try
        {
            // Field 2 (the command name) is in parentheses and may hold spaces; the fields after it start at ") ".
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            var rest = stat.AsSpan(stat.LastIndexOf(')') + 2);
            var fields = rest.ToString().Split(' ');
            // rest starts at field 3 (state); field 22 (starttime) is at index 22 - 3.
            return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadBootId()
    {
        try
        {
            return OperatingSystem.IsLinux() ? File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ReadPidNamespace()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // The link reads "pid:[INODE]"; the inode names the namespace for as long as it exists.
        try
        {
            var target = new FileInfo("/proc/self/ns/pid").LinkTarget;
            var open = target?.IndexOf('[', StringComparison.Ordinal) ?? -1;
            return open >= 0 && long.TryParse(target.AsSpan(open + 1, target!.Length - open - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
                ? inode
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
