using System.Diagnostics;
using System.Globalization;
using System.Text;
using Baton.Testing;

namespace Baton.Tests.MultiNode;

/// <summary>
/// One node of a multi-node job on this host: a started process (a guide's command under bash) with its output
/// collected, and its whole process tree (bash, baton, torchrun and its workers) to signal as a node's death would.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public NodeProcess(Process process, int rank)
    {
        _process = process;
        Rank = rank;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Rank { get; }

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

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Sends <paramref name="signal"/> to every process of the node's tree and waits until all are gone.</summary>
    public async Task SignalTreeAsync(int signal, TimeSpan timeout)
    {
        var tree = Tree(_process.Id);
        foreach (var pid in tree)
        {
            Signals.Send(pid, signal);
        }

        var clock = Stopwatch.StartNew();
        while (tree.Any(Alive))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"node {Rank}: processes {string.Join(' ', tree.Where(Alive))} still run {timeout.TotalSeconds:0} s after signal {signal}:\n{Output}");
            }

            await Task.Delay(100);
        }

        await _process.WaitForExitAsync();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"node {Rank} did not exit within {timeout.TotalSeconds:0} s:\n{Output}");
        }

        await Task.Delay(100);  // the last lines of output
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            foreach (var pid in Tree(_process.Id))
            {
                Signals.Send(pid, Signals.SigKill);
            }
        }

        _process.Dispose();
    }

    // The process and all its descendants, from /proc (parents first).
    private static List<int> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = [];
                }

                list.Add(pid);
            }
            catch (IOException)
            {
            }
        }

        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(children.GetValueOrDefault(tree[i]) ?? []);
        }

        return tree;
    }

    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(line).Append('\n');
        }
    }
}
