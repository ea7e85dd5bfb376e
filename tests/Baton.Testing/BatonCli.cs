using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Baton.Testing;

/// <summary>The result of one run of the real <c>baton</c> command line.</summary>
public sealed partial record CliResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>
    /// The lines on stderr other than progress: output that is not a terminal gets a plain progress line at once and
    /// then every few seconds, so a failure that comes after the first transfer follows one (as it does in a log).
    /// </summary>
    public IReadOnlyList<string> ErrorLines =>
        [.. StdErr.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(line => !ProgressLine().IsMatch(line))];

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";

    // "pull  62.5%  9.5 MiB / 15.3 MiB  files 1/2": what PlainProgressLines writes.
    [GeneratedRegex(@"^[a-z]+ +\d+\.\d%  ")]
    private static partial Regex ProgressLine();
}

/// <summary>
/// Runs the built <c>baton</c> command line (the test project references the CLI project, so <c>baton.dll</c> sits
/// beside the tests): inside the test process when that is the same as a process of its own, which spares a runtime
/// start per command, else as a separate process.
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

    /// <summary>
    /// Runs baton to completion and returns its output: inside this process where that is the same as a process of
    /// its own (see <see cref="RunsInProcess"/>), else as a process (killed after <paramref name="timeout"/>). Pass
    /// <paramref name="outOfProcess"/> for what is about the process itself (signals, exit of a killed process, locks
    /// of a live pid, stdin).
    /// </summary>
    public static Task<CliResult> RunAsync(IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, bool outOfProcess = false)
    {
        var list = args.ToList();
        return !outOfProcess && RunsInProcess(list, workingDirectory, environment)
            ? RunInProcessAsync(list, environment, timeout ?? DefaultTimeout)
            : RunProcessAsync(list, workingDirectory, environment, timeout);
    }

    /// <summary>Runs baton as a process of its own to completion (killing it after <paramref name="timeout"/>).</summary>
    public static async Task<CliResult> RunProcessAsync(IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Start(args, workingDirectory, environment);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
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

    /// <summary>
    /// Whether a run can be hosted in this process and behave exactly as a process of its own: the command neither
    /// supervises children nor owns signals (<c>run</c>, <c>trainer</c>, <c>demo</c>), the working directory is this
    /// process's, and every variable given is one the command line reads only through its run context.
    /// </summary>
    public static bool RunsInProcess(IReadOnlyList<string> args, string? workingDirectory, IReadOnlyDictionary<string, string?>? environment)
    {
        var command = args.FirstOrDefault(a => !a.StartsWith('-'));
        return !s_allOutOfProcess && command is not ("run" or "trainer" or "demo")
            && (workingDirectory is null || SameDirectory(workingDirectory, Environment.CurrentDirectory))
            && (environment ?? new Dictionary<string, string?>()).Keys.All(HostedVariables.Contains);
    }

    // The variables that src/Baton.Cli reads through CliContext only (none reaches Core, a store SDK or a child process).
    private static readonly HashSet<string> HostedVariables = new(StringComparer.Ordinal)
    {
        "BATON_STORE", "BATON_RUN", "BATON_PASSWORD", "BATON_DEBUG", "BATON_COMMIT_DIR", "BATON_PROGRESS",
        "BATON_COMPRESSION",
    };

    // BATON_TEST_OUT_OF_PROCESS=1 runs every command as a process of its own, as before (to compare, or to bisect).
    private static readonly bool s_allOutOfProcess = Environment.GetEnvironmentVariable("BATON_TEST_OUT_OF_PROCESS") == "1";

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    private static bool SameDirectory(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);

    private static async Task<CliResult> RunInProcessAsync(List<string> args, IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout)
    {
        // As Start does: the developer's own settings never reach a test.
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal) { ["BATON_STORE"] = null, ["BATON_RUN"] = null, ["BATON_PASSWORD"] = null };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var output = TextWriter.Synchronized(stdout);
        var error = TextWriter.Synchronized(stderr);
        using var cts = new CancellationTokenSource(timeout);
        // Off the caller's synchronization context, as a process of its own would be.
        var run = Task.Run(() => s_run.Value([.. args], output, error, variables, cts.Token));
        // Cancelled, a command stops as on Ctrl-C; one that does not stop within a grace period counts as hung too.
        var finished = await Task.WhenAny(run, Task.Delay(timeout + TimeSpan.FromSeconds(30)));
        if (finished != run || cts.IsCancellationRequested)
        {
            throw new TimeoutException($"baton {string.Join(' ', args)} did not finish in time");
        }

        return new CliResult(await run, stdout.ToString(), stderr.ToString());
    }

    // Baton.Cli.CliContext.RunAsync of baton.dll (the test project references the CLI, so the assembly is loadable).
    private static readonly Lazy<Func<string[], TextWriter, TextWriter, IReadOnlyDictionary<string, string?>?, CancellationToken, Task<int>>> s_run = new(() =>
    {
        // The program starts with spare pool threads for its blocking file I/O (Program.cs); so does a test host that runs it.
        ThreadPool.GetMinThreads(out var workers, out var completions);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount + 8), completions);
        _ = DllPath;
        var type = System.Reflection.Assembly.Load("baton").GetType("Baton.Cli.CliContext", throwOnError: true)!;
        return type.GetMethod("RunAsync")!.CreateDelegate<Func<string[], TextWriter, TextWriter, IReadOnlyDictionary<string, string?>?, CancellationToken, Task<int>>>();
    });

    /// <summary>Runs baton with arguments split on spaces (for simple cases).</summary>
    public static Task<CliResult> RunAsync(string args, string? workingDirectory = null) =>
        RunAsync(args.Split(' ', StringSplitOptions.RemoveEmptyEntries), workingDirectory);
}
