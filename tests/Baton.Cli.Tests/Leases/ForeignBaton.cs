using System.Diagnostics;
using System.Globalization;
using System.Text;
using Baton.Testing;

namespace Baton.Tests.Leases;

/// <summary>
/// A real <c>baton</c> process started under a wrapper: <c>faketime</c> (another clock) or <c>unshare</c> (another pid
/// namespace, same host name), with its output collected.
/// </summary>
internal sealed class ForeignBaton : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ForeignBaton(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The wrapper's process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Everything printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Runs <c>baton ARGS</c> with the clock shifted by faketime's <paramref name="offset"/> (e.g. "+20m").</summary>
    public static ForeignBaton WithClock(string offset, IEnumerable<string> args) => Start(["faketime", "-f", offset, "dotnet", BatonCli.DllPath, .. args]);

    /// <summary>
    /// Runs <c>baton ARGS</c> in a new pid namespace with the host's name. With <paramref name="pid"/>, baton gets that
    /// pid inside the namespace (a shell is the namespace's init and sets the next pid first); else baton is its init.
    /// </summary>
    public static ForeignBaton InPidNamespace(IEnumerable<string> args, int? pid = null)
    {
        string[] baton = ["dotnet", BatonCli.DllPath, .. args];
        return pid is { } chosen
            ? Start(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c",
                $"echo {chosen - 1} > /proc/sys/kernel/ns_last_pid && \"$@\"; exit $?", "sh", .. baton])
            : Start(["unshare", "--pid", "--fork", "--mount-proc", .. baton]);
    }

    /// <summary>The host pid of the baton process under the wrapper (polled until it exists).</summary>
    public async Task<int> BatonPidAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var found = Descendants(Pid).FirstOrDefault(p => CommandLine(p).Contains("baton.dll", StringComparison.Ordinal)
                && !CommandLine(p).StartsWith("sh", StringComparison.Ordinal) && !CommandLine(p).StartsWith("unshare", StringComparison.Ordinal)
                && !CommandLine(p).StartsWith("faketime", StringComparison.Ordinal));
            if (found != 0)
            {
                return found;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no baton process under {Pid}: {Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for the wrapper to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Whether a process is stopped (state T in /proc).</summary>
    public static bool IsStopped(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('T');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>A pid that no process of this (the tests') namespace has now.</summary>
    public static int UnusedPid()
    {
        for (var pid = 30_000; pid > 1000; pid -= 7)
        {
            if (!Directory.Exists($"/proc/{pid}"))
            {
                return pid;
            }
        }

        throw new InvalidOperationException("no free pid");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private static ForeignBaton Start(string[] command)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in command[1..])
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "BATON_STORE", "BATON_RUN", "BATON_PASSWORD" })
        {
            info.Environment.Remove(name);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command[0]}");
        process.StandardInput.Close();
        return new ForeignBaton(process);
    }

    private static IEnumerable<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                }
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var (child, _) in parents.Where(p => p.Value == parent))
            {
                found.Add(child);
                frontier.Enqueue(child);
            }
        }

        return found;
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
