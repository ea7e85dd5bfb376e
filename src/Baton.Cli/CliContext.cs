using Baton.Cli.Configuration;

// The one place that reads the process's console, environment and working directory (BannedSymbols.Cli.txt).
#pragma warning disable RS0030

namespace Baton.Cli;

/// <summary>
/// What one run of the command line sees of its surroundings: standard output and error, whether stderr is a
/// terminal, the environment variables and the working directory. The real program runs with the process's own
/// (<see cref="Process"/>); a host that runs several commands in one process at once (the tests) gives each its own
/// context through <see cref="RunAsync"/>, which flows with the async calls of that run only.
/// </summary>
/// <remarks>
/// Every read of the console, the environment or the working directory in the command line goes through
/// <see cref="Current"/>, so runs side by side in one process never see each other's output or settings.
/// </remarks>
public sealed class CliContext
{
    private static readonly AsyncLocal<CliContext?> s_current = new();

    private readonly TextWriter? _out;
    private readonly TextWriter? _error;
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly Lazy<ConfigFile> _config;

    private CliContext(TextWriter? output, TextWriter? error, IReadOnlyDictionary<string, string?> environment, bool isProcess)
    {
        _out = output;
        _error = error;
        _environment = environment;
        IsProcess = isProcess;
        _config = new Lazy<ConfigFile>(() => ConfigFile.Load(CurrentDirectory));
    }

    /// <summary>The process itself: the real console, environment and working directory.</summary>
    public static CliContext Process { get; } = new(null, null, new Dictionary<string, string?>(), isProcess: true);

    /// <summary>The context of the run this code belongs to (<see cref="Process"/> outside <see cref="RunAsync"/>).</summary>
    public static CliContext Current => s_current.Value ?? Process;

    /// <summary>True for the real program: only then does it own process-wide things such as signal handlers.</summary>
    public bool IsProcess { get; }

    /// <summary>Standard output.</summary>
    public TextWriter Out => _out ?? Console.Out;

    /// <summary>Standard error.</summary>
    public TextWriter Error => _error ?? Console.Error;

    /// <summary>Whether stderr goes somewhere other than a terminal (always, for a hosted run).</summary>
    public bool IsErrorRedirected => !IsProcess || Console.IsErrorRedirected;

    /// <summary>The working directory (a hosted run shares the process's: relative paths resolve against it).</summary>
    public string CurrentDirectory => Environment.CurrentDirectory;

    /// <summary><c>baton.toml</c> of the working directory, read once per run.</summary>
    internal ConfigFile Config => _config.Value;

    /// <summary>An environment variable: the run's own value when it has one (null there means unset), else the process's.</summary>
    public string? GetEnvironmentVariable(string name) =>
        _environment.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name);

    /// <summary>
    /// Runs the command line in this process with its own output and error writers and environment variables layered
    /// over the process's (a null value unsets one). The same code path as the real program, but no signal handlers:
    /// cancelling <paramref name="cancellationToken"/> stops the command as Ctrl-C would.
    /// </summary>
    /// <returns>The exit code the program would have returned.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error,
        IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        s_current.Value = new CliContext(output, error, environment ?? new Dictionary<string, string?>(), isProcess: false);
        return await BatonApp.RunAsync(args, cancellationToken);
    }
}

/// <summary>
/// <see cref="Console"/> for the command line: the output and error of <see cref="CliContext.Current"/>, so that a
/// run hosted inside another process writes to its own writers. Use it wherever <c>Console</c> would do.
/// </summary>
internal static class CliConsole
{
    /// <summary>Standard output of the current run.</summary>
    public static TextWriter Out => CliContext.Current.Out;

    /// <summary>Standard error of the current run.</summary>
    public static TextWriter Error => CliContext.Current.Error;

    /// <summary>Whether stderr of the current run goes somewhere other than a terminal.</summary>
    public static bool IsErrorRedirected => CliContext.Current.IsErrorRedirected;

    /// <summary>Writes a line to standard output (as <see cref="Console.WriteLine(string)"/>).</summary>
    public static void WriteLine(string? line) => Out.WriteLine(line);

    /// <summary>Writes an empty line to standard output.</summary>
    public static void WriteLine() => Out.WriteLine();
}
