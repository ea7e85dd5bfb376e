using System.Diagnostics;

namespace Baton.Testing;

/// <summary>The result of one run of the real <c>baton</c> process.</summary>
public sealed record CliResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
}

/// <summary>
/// Runs the built <c>baton</c> command line as a separate process (the test project references the CLI project,
/// so <c>baton.dll</c> sits beside the tests).
/// </summary>
public static class BatonCli
{
    /// <summary>Path of the CLI assembly.</summary>
    public static string DllPath
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "baton.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("baton.dll is not beside the tests: reference src/Baton.Cli", path);
        }
    }

    /// <summary>Starts baton with redirected output; the caller owns the process.</summary>
    public static Process Start(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        info.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Tests never inherit the developer's own settings.
        foreach (var name in new[] { "BATON_STORE", "BATON_RUN", "BATON_PASSWORD" })
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[name] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start baton");
    }

    /// <summary>Runs baton to completion (killing it after <paramref name="timeout"/>) and returns its output.</summary>
    public static async Task<CliResult> RunAsync(IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Start(args, workingDirectory, environment);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"baton {string.Join(' ', args)} did not finish in time");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs baton with arguments split on spaces (for simple cases).</summary>
    public static Task<CliResult> RunAsync(string args, string? workingDirectory = null) =>
        RunAsync(args.Split(' ', StringSplitOptions.RemoveEmptyEntries), workingDirectory);
}
