using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Runtime.InteropServices;
using Baton.Cli.Commands;

namespace Baton.Cli;

/// <summary>Builds the command tree and runs it with one error policy and one exit-code map.</summary>
internal static partial class BatonApp
{
    public static string Version =>
        typeof(BatonApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static Command Build()
    {
        // Named and versioned here, not after the entry assembly as RootCommand is: a process that hosts the command
        // line (a test host) is not baton, and its help and --version must still say baton's.
        var root = new Command("baton", "Baton makes training survive the machine it runs on: checkpoints become verified, deduplicated snapshots in a store.")
        {
            Options = { new HelpOption(), new VersionOption { Action = new PrintVersion() } },
        };
        root.Subcommands.Add(InitCommand.Create());
        root.Subcommands.Add(PushCommand.Create());
        root.Subcommands.Add(PullCommand.Create());
        root.Subcommands.Add(LsCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(PruneCommand.Create());
        root.Subcommands.Add(RepairCommand.Create());
        root.Subcommands.Add(TagCommand.CreateTag());
        root.Subcommands.Add(TagCommand.CreateUntag());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(KeyCommand.Create());
        root.Subcommands.Add(StageCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(CommitCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(TrainerCommand.Create());
        return root;
    }

    /// <summary>Runs one command line with the console, environment and working directory of <see cref="CliContext.Current"/>.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var context = CliContext.Current;
        var root = Build();
        if (CommandLineMistakes.Find(root, args) is { } mistake)
        {
            await context.Error.WriteLineAsync($"baton: {mistake}");
            return ExitCodes.Usage;
        }

        var result = root.Parse(args);
        if (result.Action is HelpAction && result.CommandResult.Command.Name == "run")
        {
            // The generated usage line cannot say that the trainer command comes after '--'; this one does.
            using var help = new StringWriter();
            var code = await result.InvokeAsync(new InvocationConfiguration { Output = help, Error = context.Error }, cancellationToken);
            await context.Out.WriteAsync(RunUsage().Replace(help.ToString(), "baton run [options] -- COMMAND [ARGS...]"));
            return code;
        }

        if (result.Errors.Count > 0)
        {
            foreach (var error in result.Errors.Take(1))
            {
                await context.Error.WriteLineAsync($"baton: {error.Message} (see 'baton --help')");
            }

            return ExitCodes.Usage;
        }

        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var received = 0;
        var registrations = new List<PosixSignalRegistration>();
        try
        {
            // SIGTERM (kill, docker stop, SLURM) and SIGHUP (a closed terminal or notebook) stop a command exactly as
            // Ctrl-C does: cancel, clean up (staging folders, the writer lease, in-flight markers), then exit 128+N.
            // A second signal while the first is being handled ends the process at once.
            // Only the real program owns the process's signals; a run hosted in another process is stopped by its token.
            foreach (var signal in context.IsProcess ? new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP } : [])
            {
                registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    if (Interlocked.CompareExchange(ref received, SignalNumber(context.Signal), 0) == 0)
                    {
                        context.Cancel = true;
                        interrupt.Cancel();
                    }
                }));
            }

            var code = await result.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, Output = context.Out, Error = context.Error }, interrupt.Token);
            return code == ExitCodes.Interrupted && Volatile.Read(ref received) is > 0 and var number ? 128 + number : code;
        }
        finally
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    // PosixSignal's values are negative stand-ins; the exit code uses the POSIX number.
    private static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGTERM => 15,
        _ => 0,
    };

    /// <summary>Wraps a command body with the shared error policy.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Handler(Func<ParseResult, CancellationToken, Task<int>> body) =>
        async (result, cancellationToken) =>
        {
            try
            {
                return await body(result, cancellationToken);
            }
            catch (Exception e)
            {
                return CommandErrors.Report(e, CliContext.Current.Error);
            }
        };

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return 0;
        }
    }

    [GeneratedRegex(@"baton run \[<COMMAND>\.\.\.\] \[options\]", RegexOptions.CultureInvariant)]
    private static partial Regex RunUsage();
}
