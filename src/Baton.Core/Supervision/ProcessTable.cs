using System.Globalization;

namespace Baton.Supervision;

/// <summary>
/// What the supervisor asks about processes beyond its own child: who is still in a process group, whether a process
/// has a handler for a signal, and who holds a file open. Read from <c>/proc</c> on Linux; elsewhere the answers are
/// the coarser ones <c>kill(2)</c> gives.
/// </summary>
internal static class ProcessTable
{
    private static bool HasProc => OperatingSystem.IsLinux() && Directory.Exists("/proc/self");

    /// <summary>
    /// The live processes of group <paramref name="groupId"/> (zombies do not count: they write nothing and wait only
    /// for a parent, possibly init, to reap them). Without <c>/proc</c>, the group id itself while the group exists.
    /// </summary>
    public static IReadOnlyList<int> GroupMembers(int groupId)
    {
        if (!HasProc)
        {
            return ProcessSignals.Send(-groupId, 0) ? [groupId] : [];
        }

        var members = new List<int>();
        foreach (var pid in Pids())
        {
            if (Stat(pid) is { } stat && stat.Group == groupId && stat.State != 'Z' && stat.State != 'X')
            {
                members.Add(pid);
            }
        }

        return members;
    }

    /// <summary>The process group of <paramref name="pid"/>, or null when it is gone (or unknown without <c>/proc</c>).</summary>
    public static int? GroupOf(int pid) => HasProc && Stat(pid) is { } stat && stat.State != 'Z' ? stat.Group : null;

    /// <summary>
    /// Whether <paramref name="pid"/> has installed a handler for <paramref name="signal"/> (SigCgt in its status), so
    /// that the signal cannot kill it. Null when that cannot be known (no <c>/proc</c>, the process is gone).
    /// </summary>
    public static bool? Catches(int pid, int signal)
    {
        if (!HasProc)
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("SigCgt:", StringComparison.Ordinal))
                {
                    var mask = ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    return (mask & (1UL << (signal - 1))) != 0;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return null;
    }

    /// <summary>The processes (other than this one) that hold <paramref name="path"/> open; empty without <c>/proc</c>.</summary>
    public static IReadOnlyList<int> HoldersOf(string path)
    {
        if (!HasProc)
        {
            return [];
        }

        var holders = new List<int>();
        foreach (var pid in Pids().Where(p => p != Environment.ProcessId))
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget == path)
                    {
                        holders.Add(pid);
                        break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or another user's: not ours to name.
            }
        }

        return holders;
    }

    private static IEnumerable<int> Pids()
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    private static (char State, int Group)? Stat(int pid)
    {
        try
        {
            // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[2], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
