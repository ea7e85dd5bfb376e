using System.CommandLine;
using System.Text.RegularExpressions;
using Baton.Checkpoints;
using Baton.Cli.Configuration;
using Baton.Cli.Rendering;
using Baton.Staging;
using Baton.Supervision;
using Baton.Supervision.Preemption;

namespace Baton.Cli.Commands;

/// <summary><c>baton run</c>: supervise a training command across crashes, signals, deadlines and preemptions.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var dir = new Option<string?>("--dir", "-d") { Description = "The checkpoint directory the trainer writes (created if missing; default from baton.toml)", HelpName = "CKPT_DIR" };
        var format = new Option<string?>("--format") { Description = $"Checkpoint layout: {CheckpointFormats.Names} (default auto)", HelpName = "FORMAT" };
        var data = new Option<string[]>("--data") { Description = "Fetch data before the trainer starts (repeatable; see 'baton stage'): cached, resumed, verified", HelpName = "SRC=DEST" };
        var quiet = new Option<string>("--quiet-period") { Description = "How long files without a completeness marker must stay unchanged", HelpName = "DURATION", DefaultValueFactory = _ => "5s" };
        var stepFrom = new Option<string?>("--step-from") { Description = "Regular expression with one group that reads the step from a checkpoint's path", HelpName = "REGEX" };
        var resumeArgs = new Option<string?>("--resume-args") { Description = "Arguments added to the command only when a checkpoint is there to resume from", HelpName = "ARGS" };
        var maxRestarts = new Option<int>("--max-restarts") { Description = "Restarts of a failing trainer before giving up", HelpName = "N", DefaultValueFactory = _ => 10 };
        var crashLoop = new Option<int>("--crash-loop") { Description = "Failures in a row without a new checkpoint that stop the run (0: never)", HelpName = "K", DefaultValueFactory = _ => 3 };
        var backoff = new Option<string>("--backoff") { Description = "First restart delay; doubles with each fruitless failure (with jitter)", HelpName = "DURATION", DefaultValueFactory = _ => "1s" };
        var backoffMax = new Option<string>("--backoff-max") { Description = "Longest restart delay", HelpName = "DURATION", DefaultValueFactory = _ => "1m" };
        var signal = new Option<string>("--signal") { Description = "Signal forwarded to the trainer's process group to stop it", HelpName = "SIGNAL", DefaultValueFactory = _ => "SIGTERM" };
        var grace = new Option<string>("--grace") { Description = "Time the trainer gets to write a last checkpoint and exit", HelpName = "DURATION", DefaultValueFactory = _ => "30s" };
        var deadline = new Option<string?>("--deadline") { Description = "A known session limit (e.g. 11h30m on Colab): stop well ahead of it", HelpName = "DURATION" };
        var checkpointSignal = new Option<string?>("--checkpoint-signal") { Description = "Signal that makes the trainer checkpoint, sent before a deadline or preemption stop (e.g. SIGUSR1)", HelpName = "SIGNAL" };
        var checkpointSignalTo = new Option<string>("--checkpoint-signal-to") { Description = "Who gets --checkpoint-signal: trainer (the pid in $BATON_SIGNAL_FILE, else the trainer; once it handles the signal) or group", HelpName = "TARGET", DefaultValueFactory = _ => "trainer" };
        var noCheckpointWarning = new Option<string>("--no-checkpoint-warning") { Description = "Warn when the trainer has written no checkpoint to --dir this long after its start", HelpName = "DURATION", DefaultValueFactory = _ => "10m" };
        var preemption = new Option<string>("--preemption") { Description = $"Cloud preemption notices to watch: {PreemptionMonitor.Kinds}", HelpName = "CLOUD", DefaultValueFactory = _ => "none" };
        var preemptionInterval = new Option<string>("--preemption-interval") { Description = "How often the metadata service is asked", HelpName = "DURATION", DefaultValueFactory = _ => "5s" };
        var scanInterval = new Option<string>("--scan-interval") { Description = "Rescan period of the checkpoint directory (file-system events are used too)", HelpName = "DURATION", DefaultValueFactory = _ => "2s" };
        var pushPriority = new Option<string>("--push-priority") { Description = "CPU and I/O priority of the background pushes: low (nice 10, lowest best-effort I/O), idle (SCHED_IDLE: only CPU the trainer leaves) or normal", HelpName = "PRIORITY", DefaultValueFactory = _ => "low" };
        var takeOver = new Option<bool>("--take-over") { Description = "Fence the run's current writer at once instead of waiting for its lease to expire" };
        var nodes = new Option<int?>("--nodes") { Description = "Nodes of a multi-node job, one baton run each (default from BATON_NODES, SLURM_NNODES or NNODES, else 1)", HelpName = "N" };
        var nodeRank = new Option<int?>("--node-rank") { Description = "This node's rank, 0 to N-1 (default from BATON_NODE_RANK, SLURM_NODEID, NODE_RANK, GROUP_RANK or JOB_COMPLETION_INDEX)", HelpName = "R" };
        var groupId = new Option<string?>("--group-id") { Description = "The job attempt's id, the same on its nodes and new for each attempt (default from BATON_GROUP_ID or SLURM_JOB_ID.SLURM_RESTART_COUNT)", HelpName = "ID" };
        var sharedDir = new Option<bool>("--shared-dir") { Description = "Every node sees the whole checkpoint directory (a shared file system): each pushes a disjoint share" };
        var barrierTimeout = new Option<string>("--barrier-timeout") { Description = "How long the nodes wait for each other before training starts (none starts without all)", HelpName = "DURATION", DefaultValueFactory = _ => "10m" };
        var compression = CommonOptions.Compression();
        var trainer = new Argument<string[]>("COMMAND") { Description = "The training command, after '--'", Arity = ArgumentArity.ZeroOrMore };
        var retention = new RetentionOptions();
        var command = new Command("run", "Run a training command: restore its newest checkpoint, push each new one, restart it on failure, stop it well")
        {
            store, run, dir, format, data, quiet, stepFrom, resumeArgs, maxRestarts, crashLoop, backoff, backoffMax, signal, grace, deadline,
            checkpointSignal, checkpointSignalTo, noCheckpointWarning, preemption, preemptionInterval, scanInterval, pushPriority, takeOver, nodes, nodeRank, groupId, sharedDir, barrierTimeout, compression, trainer,
        };
        retention.AddTo(command);
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, _) =>
        {
            var file = ConfigFile.Current;
            // Catch the signals first: from here on SIGTERM, SIGINT and SIGHUP start the stop sequence.
            using var signals = new SignalRelay();
            var log = new SupervisorConsoleLog(CliConsole.Error);
            var options = new SupervisorOptions
            {
                Run = CommonOptions.RunFrom(result, run),
                Directory = result.GetValue(dir) ?? file.Dir
                    ?? throw new UsageException("no checkpoint directory: pass --dir CKPT_DIR or put dir = \"...\" in baton.toml"),
                Command = result.GetValue(trainer) ?? [],
                ResumeArguments = (result.GetValue(resumeArgs) ?? file.ResumeArgs) is { } extra ? ArgumentSplitter.Split(extra) : [],
                Format = result.GetValue(format) ?? file.Format ?? "auto",
                Data = ParseData(result.GetValue(data) is { Length: > 0 } given ? given : file.Data ?? []),
                Staging = new StageOptions
                {
                    Stores = Stores.Registry,
                    GcsEndpoint = CliContext.Current.GetEnvironmentVariable(StageCommand.GcsEndpointVariable) is { Length: > 0 } endpoint ? new Uri(endpoint) : new StageOptions().GcsEndpoint,
                },
                Retention = retention.Read(result) is { IsEmpty: false } policy ? policy : null,
                QuietPeriod = Durations.Parse(result.GetValue(quiet)!, "--quiet-period"),
                StepFrom = ParseRegex(result.GetValue(stepFrom)),
                Restart = new RestartOptions
                {
                    MaxRestarts = NonNegative(result.GetValue(maxRestarts), "--max-restarts"),
                    CrashLoopLimit = NonNegative(result.GetValue(crashLoop), "--crash-loop"),
                    InitialBackoff = Durations.Parse(result.GetValue(backoff)!, "--backoff"),
                    MaxBackoff = Durations.Parse(result.GetValue(backoffMax)!, "--backoff-max"),
                },
                StopSignal = SignalNames.Parse(result.GetValue(signal)!, "--signal"),
                Grace = Durations.Parse(result.GetValue(grace)!, "--grace"),
                Deadline = result.GetValue(deadline) is { } d ? Durations.Parse(d, "--deadline") : null,
                CheckpointSignal = result.GetValue(checkpointSignal) is { } s ? SignalNames.Parse(s, "--checkpoint-signal") : null,
                CheckpointSignalTo = ParseSignalTarget(result.GetValue(checkpointSignalTo)!),
                NoCheckpointWarning = Durations.Parse(result.GetValue(noCheckpointWarning)!, "--no-checkpoint-warning"),
                Preemption = PreemptionMonitor.ValidateKind(result.GetValue(preemption)!),
                PreemptionInterval = Durations.Parse(result.GetValue(preemptionInterval)!, "--preemption-interval"),
                Endpoints = PreemptionEndpoints.FromEnvironment(),
                ScanInterval = Durations.Parse(result.GetValue(scanInterval)!, "--scan-interval"),
                PushPriority = ParsePushPriority(result.GetValue(pushPriority)!),
                TakeOver = result.GetValue(takeOver),
                Group = Groups.GroupEnvironment.Resolve(result.GetValue(nodes), result.GetValue(nodeRank), result.GetValue(groupId), CliContext.Current.GetEnvironmentVariable).ToOptions() with
                {
                    SharedDirectory = result.GetValue(sharedDir),
                    BarrierTimeout = Durations.Parse(result.GetValue(barrierTimeout)!, "--barrier-timeout"),
                },
                Compression = CommonOptions.CompressionFrom(result, compression),
                Credentials = access.Credentials(result),
            };
            var storeAddress = CommonOptions.StoreFrom(result, store);
            await using var objects = Stores.Open(storeAddress);
            StoreInsideDirectory.Refuse(objects, options.Directory, "the checkpoint directory");
            // The supervisor ends itself on signals; the command's own cancellation (the first Ctrl-C) is not used.
            var outcome = await Supervisor.RunAsync(objects, options, log, signals.Received, CancellationToken.None);
            log.Info(outcome.Message);
            return outcome.Outcome switch
            {
                SupervisorOutcome.Finished => ExitCodes.Success,
                SupervisorOutcome.Signaled => 128 + (outcome.Signal ?? SignalNames.Term),
                SupervisorOutcome.Deadline or SupervisorOutcome.Preempted => ExitCodes.Stopped,
                SupervisorOutcome.Fenced => ExitCodes.Conflict,
                _ => ExitCodes.TrainerFailed,
            };
        }));
        return command;
    }

    // SRC=DEST, split at the last '=' (a signed URL's query holds '=' too; a destination rarely does).
    private static List<(string Source, string Destination)> ParseData(IEnumerable<string> values) => values.Select(value =>
    {
        var at = value.LastIndexOf('=');
        return at > 0 && at < value.Length - 1
            ? (value[..at], value[(at + 1)..])
            : throw new UsageException($"--data '{Storage.StoreUri.Parse(value).Redacted}' is not SRC=DEST: write e.g. --data https://host/eye.npz=eye.npz");
    }).ToList();

    private static Regex? ParseRegex(string? pattern)
    {
        if (pattern is null)
        {
            return null;
        }

        try
        {
            var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            return regex.GetGroupNumbers().Length >= 2 ? regex : throw new UsageException($"--step-from '{pattern}' has no capture group: put the step's digits in ( )");
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--step-from '{pattern}' is not a regular expression: {e.Message}", e);
        }
    }

    private static Platform.PushPriority ParsePushPriority(string value) => value.ToUpperInvariant() switch
    {
        "LOW" => Platform.PushPriority.Low,
        "IDLE" => Platform.PushPriority.Idle,
        "NORMAL" => Platform.PushPriority.Normal,
        _ => throw new UsageException($"--push-priority '{value}' is not low, idle or normal: write --push-priority low (the default), idle or normal"),
    };

    private static CheckpointSignalTarget ParseSignalTarget(string value) => value.ToUpperInvariant() switch
    {
        "TRAINER" => CheckpointSignalTarget.Trainer,
        "GROUP" => CheckpointSignalTarget.Group,
        _ => throw new UsageException($"--checkpoint-signal-to '{value}' is not trainer or group: write --checkpoint-signal-to trainer (the default) or group"),
    };

    private static int NonNegative(int value, string what) => value >= 0 ? value : throw new UsageException($"{what} must be 0 or more");
}
