using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Baton.Cli.Commands;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage.Folder;
using Baton.Supervision;

namespace Baton.Cli.Demo;

/// <summary>
/// The demo: the demo trainer under <c>baton run</c> on a temporary folder store, preempted again and again. Each
/// preemption SIGKILLs the supervisor and the trainer at a random moment (a machine lost); a fresh supervisor on a
/// fresh, empty checkpoint directory (a new machine) takes over. At the end the final weights are compared bit for
/// bit with a run that was never interrupted.
/// </summary>
internal sealed partial class DemoRun(string root, int preemptions, int steps, int seed, TextWriter output)
{
    private const string RunName = "demo";
    private const int Every = 10;
    private const int StepMs = 40;
    private static readonly TimeSpan LegTimeout = TimeSpan.FromSeconds(120);
    private readonly Random _random = new(seed);
    private readonly string _store = Path.Combine(root, "store");

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        Say($"Baton demo: a linear model trained by SGD for {steps} steps under 'baton run', a checkpoint every {Every} steps,");
        Say($"pushed to a folder store. {preemptions} preemption(s) will SIGKILL the supervisor and the trainer at random moments;");
        Say("each time a new machine (an empty checkpoint directory) takes over. Each step pauses 40ms to pace the demo.");
        Say($"store: {_store}   (seed {seed}: 'baton demo --seed {seed}' replays these preemptions)");
        Say();

        var clock = Stopwatch.StartNew();
        var reference = DemoCheckpoints.WeightBytes(TrainerCommand.Reference(steps, new ModelConfig().Features));
        Say($"reference: an uninterrupted run ends with weights sha256 {Hash(reference)[..16]}... (computed in {clock.Elapsed.TotalSeconds:0.0}s)");

        var kills = PlanKills();
        var lost = new List<(int Machine, long Reached, long Durable)>();
        for (var machine = 1; ; machine++)
        {
            var killAt = machine <= kills.Count ? kills[machine - 1] : (int?)null;
            var leg = await RunMachineAsync(machine, killAt, cancellationToken);
            if (killAt is null)
            {
                break;
            }

            var durable = await NewestStepAsync(cancellationToken) ?? 0;
            lost.Add((machine, leg.Reached, durable));
            Say($"  x preempted at step {leg.Reached}: SIGKILL to {leg.KillOrder}; the store holds step {durable}, so {leg.Reached - durable} steps of work are lost");
        }

        return await VerifyAsync(reference, lost, clock, cancellationToken);
    }

    private List<int> PlanKills()
    {
        var segment = steps / (preemptions + 1);
        var kills = new List<int>();
        for (var i = 1; i <= preemptions; i++)
        {
            var at = (segment * i) + _random.Next(-segment / 3, (segment / 3) + 1);
            kills.Add(Math.Clamp(at, Math.Max(kills.LastOrDefault() + 5, 15), steps - 5));
        }

        return kills;
    }

    private async Task<LegResult> RunMachineAsync(int machine, int? killAt, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, $"machine-{machine}", "logs");
        Say();
        Say($"machine {machine}: a fresh supervisor on an empty checkpoint directory ({Path.GetRelativePath(root, directory)})");
        var self = SelfCommand.Prefix();
        string[] arguments =
        [
            .. self.Skip(1), "run", "--store", _store, "--run", RunName, "--dir", directory, "--format", "tf", "--quiet-period", "200ms",
            "--scan-interval", "500ms", "--backoff", "200ms", "--grace", "5s", "--resume-args=--resume", "--",
            .. self, "trainer", "--dir", directory, "--steps", steps.ToString(CultureInfo.InvariantCulture),
            "--every", Every.ToString(CultureInfo.InvariantCulture), "--step-ms", StepMs.ToString(CultureInfo.InvariantCulture),
        ];
        var info = new ProcessStartInfo(self[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var supervisor = Process.Start(info) ?? throw new InvalidOperationException("could not start the supervisor");
        var lines = Channel.CreateUnbounded<string>();
        var readers = Task.WhenAll(Pump(supervisor.StandardOutput, lines.Writer), Pump(supervisor.StandardError, lines.Writer))
            .ContinueWith(_ => lines.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        var trainer = 0;
        long reached = 0;
        var tail = new Queue<string>();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(LegTimeout);
            await foreach (var line in lines.Reader.ReadAllAsync(timeout.Token))
            {
                Remember(tail, line);
                if (Started().Match(line) is { Success: true } started)
                {
                    trainer = int.Parse(started.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
                }
                else if (StepLine().Match(line) is { Success: true } step)
                {
                    reached = long.Parse(step.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
                    if (reached % 50 == 0)
                    {
                        Say($"  step {reached,4}  loss {step.Groups[2].Value}");
                    }
                }
                else if (Notable().IsMatch(line))
                {
                    Say("  " + line);
                }

                if (killAt is { } at && reached >= at && trainer != 0)
                {
                    var order = await PreemptAsync(supervisor, trainer, cancellationToken);
                    await supervisor.WaitForExitAsync(cancellationToken);
                    return new LegResult(reached, order);
                }
            }

            await supervisor.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BatonException(ErrorCategory.Failure, $"demo: machine {machine} did not finish within {LegTimeout.TotalSeconds:0}s (last output: {string.Join(" | ", tail)})");
        }
        finally
        {
            if (!supervisor.HasExited)
            {
                supervisor.Kill();
            }

            if (trainer != 0)
            {
                ProcessSignals.Send(-trainer, SignalNames.Kill);
            }

            await readers;
        }

        if (supervisor.ExitCode != 0)
        {
            throw new BatonException(ErrorCategory.Failure, $"demo: the supervisor on machine {machine} exited with {supervisor.ExitCode} (last output: {string.Join(" | ", tail)})");
        }

        Say($"  finished: the trainer reached step {reached}; the supervisor pushed its last checkpoint and exited 0");
        return new LegResult(reached, "");
    }

    // A machine going away: both processes die by SIGKILL, in a random order, a random moment into the step.
    private async Task<string> PreemptAsync(Process supervisor, int trainer, CancellationToken cancellationToken)
    {
        await Task.Delay(_random.Next(0, StepMs), cancellationToken);
        if (_random.Next(2) == 0)
        {
            ProcessSignals.Send(-trainer, SignalNames.Kill);
            await Task.Delay(_random.Next(0, 150), cancellationToken);
            ProcessSignals.Send(supervisor.Id, SignalNames.Kill);
            return "the trainer, then the supervisor";
        }

        ProcessSignals.Send(supervisor.Id, SignalNames.Kill);
        await Task.Delay(_random.Next(0, 150), cancellationToken);
        ProcessSignals.Send(-trainer, SignalNames.Kill);
        return "the supervisor, then the trainer";
    }

    private async Task<int> VerifyAsync(byte[] reference, List<(int Machine, long Reached, long Durable)> lost, Stopwatch clock, CancellationToken cancellationToken)
    {
        await using var store = new FolderStore(_store);
        var repository = await Repository.OpenAsync(store, cancellationToken: cancellationToken);
        var newest = await repository.FindSnapshotAsync(RunName, cancellationToken: cancellationToken)
            ?? throw new BatonException(ErrorCategory.Failure, "demo: the run has no snapshot");
        var verify = Path.Combine(root, "verify");
        await repository.RestoreAsync(newest, verify, cancellationToken: cancellationToken);
        var model = new LinearModel(new ModelConfig());
        if (!DemoCheckpoints.TryLoadNewest(verify, model) || model.Step != steps)
        {
            throw new IntegrityException($"demo: the newest snapshot does not hold the final checkpoint (step {model.Step} of {steps})");
        }

        var final = DemoCheckpoints.WeightBytes(model);
        Say();
        if (!final.AsSpan().SequenceEqual(reference))
        {
            throw new IntegrityException($"demo: the final weights (sha256 {Hash(final)[..16]}) differ from the uninterrupted run's ({Hash(reference)[..16]})");
        }

        Say($"result: the final weights restored from the store are bit-identical to the uninterrupted run (sha256 {Hash(final)[..16]}...)");
        Say("work lost per preemption: " + (lost.Count == 0 ? "none (no preemptions)" : string.Join(", ", lost.Select(l => $"machine {l.Machine}: {l.Reached - l.Durable} steps"))) +
            $" (at most the {Every}-step checkpoint interval plus a push)");
        Say($"total time: {clock.Elapsed.TotalSeconds:0.0}s");
        Say();
        Say("legs, as 'baton status' shows them:");
        StatusCommand.Print((await StatusCommand.LoadAsync(repository, RunName, TimeProvider.System, cancellationToken)).View, output);
        return ExitCodes.Success;
    }

    private async Task<long?> NewestStepAsync(CancellationToken cancellationToken)
    {
        await using var store = new FolderStore(_store);
        var repository = await Repository.OpenAsync(store, cancellationToken: cancellationToken);
        return (await repository.FindSnapshotAsync(RunName, cancellationToken: cancellationToken))?.Manifest.Step;
    }

    private static async Task Pump(StreamReader reader, ChannelWriter<string> lines)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            await lines.WriteAsync(line);
        }
    }

    // Console output is line-buffered and local: writing it synchronously is fine.
    private void Say(string line = "") => output.WriteLine(line);

    private static void Remember(Queue<string> tail, string line)
    {
        tail.Enqueue(line);
        if (tail.Count > 4)
        {
            tail.Dequeue();
        }
    }

    private static string Hash(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    [GeneratedRegex(@"^baton: started .* \(pid (\d+)\)")]
    private static partial Regex Started();

    [GeneratedRegex(@"^step (\d+) loss (\S+)$")]
    private static partial Regex StepLine();

    [GeneratedRegex(@"^baton: (restored|started|trainer |restarting|run '|.* again)")]
    private static partial Regex Notable();

    private sealed record LegResult(long Reached, string KillOrder);
}
