using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// A real <c>baton run</c> process with its output (its own and the trainer's) collected line by line, and the means
/// to kill the trainer, the supervisor or both the way a lost machine does.
/// </summary>
internal sealed partial class SupervisedRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Task _readers;

    private SupervisedRun(Process process)
    {
        _process = process;
        _process.StandardInput.Close();
        _readers = Task.WhenAll(PumpAsync(process.StandardOutput), PumpAsync(process.StandardError));
    }

    public int Pid => _process.Id;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public string Output => string.Join('\n', Lines);

    /// <summary>The trainers the supervisor started, in order (each leads its own process group).</summary>
    public IReadOnlyList<int> TrainerPids => Lines.Select(l => Started().Match(l)).Where(m => m.Success)
        .Select(m => int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture)).ToList();

    public static SupervisedRun Start(IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string?>? environment = null) =>
        new(BatonCli.Start(args, workingDirectory, environment));

    /// <summary>Waits for a line matching <paramref name="pattern"/> at or after line <paramref name="from"/>; returns its index.</summary>
    public async Task<int> WaitForLineAsync(string pattern, int from = 0, TimeSpan? timeout = null)
    {
        var regex = new Regex(pattern);
        return await WaitForAsync(lines =>
        {
            for (var i = from; i < lines.Count; i++)
            {
                if (regex.IsMatch(lines[i]))
                {
                    return i;
                }
            }

            return -1;
        }, $"a line matching '{pattern}'", timeout);
    }

    /// <summary>Waits until the trainer has printed a step line with a step of at least <paramref name="step"/>.</summary>
    public Task<int> WaitForStepAsync(long step, int from = 0) => WaitForAsync(lines =>
    {
        for (var i = from; i < lines.Count; i++)
        {
            var match = StepLine().Match(lines[i]);
            if (match.Success && long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) >= step)
            {
                return i;
            }
        }

        return -1;
    }, $"step {step}", null);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"baton run did not exit within {timeout.TotalSeconds:0}s; output:\n{Tail()}");
        }

        await _readers;
        return _process.ExitCode;
    }

    /// <summary>
    /// Waits for the supervisor alone to exit, not for its output to end: a trainer that outlives it keeps the pipes
    /// open.
    /// </summary>
    public async Task<int> WaitForSupervisorExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"baton run did not exit within {timeout.TotalSeconds:0}s; output:\n{Tail()}");
        }

        return _process.ExitCode;
    }

    public void Signal(int signal) => Signals.Send(Pid, signal);

    public void KillTrainer() => Signals.Send(-TrainerPids[^1], Signals.SigKill);

    public void KillSupervisor() => Signals.Send(Pid, Signals.SigKill);

    public string Tail(int count = 40) => string.Join('\n', Lines.TakeLast(count));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        foreach (var trainer in TrainerPids)
        {
            Signals.Send(-trainer, Signals.SigKill);
        }

        await _process.WaitForExitAsync();
        await _readers;
        _process.Dispose();
    }

    private async Task<int> WaitForAsync(Func<IReadOnlyList<string>, int> find, string what, TimeSpan? timeout)
    {
        var limit = Stopwatch.StartNew();
        var max = timeout ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            var index = find(Lines);
            if (index >= 0)
            {
                return index;
            }

            if (limit.Elapsed > max || (_process.HasExited && find(Lines) < 0 && limit.Elapsed > TimeSpan.FromSeconds(1)))
            {
                throw new TimeoutException($"waited for {what}; {(_process.HasExited ? $"baton exited with {_process.ExitCode}" : "still running")}; output:\n{Tail()}");
            }

            await Task.Delay(10);
        }
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_lines)
            {
                _lines.Add(line);
            }
        }
    }

    [GeneratedRegex(@"^baton: started .* \(pid (\d+)\)")]
    private static partial Regex Started();

    [GeneratedRegex(@"^step (\d+)( loss .*)?$")]
    private static partial Regex StepLine();
}
