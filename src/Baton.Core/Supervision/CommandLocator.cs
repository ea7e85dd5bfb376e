namespace Baton.Supervision;

/// <summary>Finds the program of a command the way a shell would, so that a typo is a clear error before anything starts.</summary>
public static class CommandLocator
{
    /// <summary>The full path of <paramref name="program"/>: as given when it has a '/', else the first match on PATH.</summary>
    /// <exception cref="UsageException">It does not exist or is not executable.</exception>
    public static string Resolve(string program, string? path = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(program);
            return IsExecutable(full) ? full : throw new UsageException(File.Exists(full)
                ? $"command '{program}' is not executable: chmod +x it or run it through its interpreter"
                : $"command '{program}' does not exist");
        }

        foreach (var directory in (path ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        throw new UsageException($"command '{program}' not found on PATH: check its spelling, or give its path");
    }

    private static bool IsExecutable(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & AnyExecute) != 0;
    }
}
