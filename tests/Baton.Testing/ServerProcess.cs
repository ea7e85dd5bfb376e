using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Baton.Testing;

/// <summary>
/// A real server process started by a test fixture on a loopback port: started, awaited until it accepts
/// connections, and killed on dispose. A server that cannot start is an error naming the server and its output, so
/// the tests that need it fail (never skip).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(string name, Process process, int port)
    {
        Name = name;
        _process = process;
        Port = port;
    }

    /// <summary>The server's name, for messages.</summary>
    public string Name { get; }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>What the server printed so far (for failure messages).</summary>
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

    /// <summary>Starts <paramref name="fileName"/> and waits until 127.0.0.1:<paramref name="port"/> accepts connections.</summary>
    public static async Task<ServerProcess> StartAsync(string name, string fileName, IEnumerable<string> arguments, int port, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{name} could not be started from {fileName}: {e.Message}; run eng/install-test-deps.sh", e);
        }

        var server = new ServerProcess(name, process, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilListeningAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Kills the server and waits for it to exit.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (OperationCanceledException)
        {
        }

        _process.Dispose();
    }

    private async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it listened on port {Port}: {Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException($"{Name} did not listen on port {Port} within {timeout.TotalSeconds:0} s: {Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }
}
