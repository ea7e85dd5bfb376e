using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Baton.Cli.Demo;

namespace Baton.Cli.Commands;

/// <summary>
/// The demo's trainer (hidden from help): a small linear model trained by SGD, a loss line per step, a TensorFlow-style
/// checkpoint every few steps, resumable with <c>--resume</c>, and deterministic, so a run that was killed and resumed
/// ends with the same bits as one that was not. SIGTERM or SIGINT: checkpoint and exit; SIGUSR1: checkpoint and go on.
/// </summary>
internal static class TrainerCommand
{
    private const int SigUsr1 = 10;

    public static Command Create()
    {
        var dir = new Option<string>("--dir") { Description = "Checkpoint directory", Required = true };
        var steps = new Option<int>("--steps") { Description = "Steps to train", DefaultValueFactory = _ => 300 };
        var every = new Option<int>("--every") { Description = "Checkpoint every N steps", DefaultValueFactory = _ => 10 };
        var features = new Option<int>("--features") { Description = "Model size (weights)", DefaultValueFactory = _ => new ModelConfig().Features };
        var stepMs = new Option<int>("--step-ms") { Description = "Pause per step in milliseconds (paces a demo)", DefaultValueFactory = _ => 0 };
        var write = new Option<string>("--write") { Description = "How checkpoints are written: in-place or atomic", DefaultValueFactory = _ => "in-place" };
        write.AcceptOnlyFromAmong("in-place", "atomic");
        var keep = new Option<int>("--keep") { Description = "Checkpoints kept on disk", DefaultValueFactory = _ => 2 };
        var resume = new Option<bool>("--resume") { Description = "Resume from the newest checkpoint in --dir (an error when there is none)" };
        var fail = new Option<int?>("--fail-at") { Description = "Exit 1 when this step is reached (for testing restarts)" };
        var command = new Command("trainer", "The demo's deterministic trainer")
        {
            dir, steps, every, features, stepMs, write, keep, resume, fail,
        };
        command.Hidden = true;
        command.SetAction(BatonApp.Handler((result, cancellationToken) => Task.FromResult(Train(new TrainerSettings(
            result.GetValue(dir)!, result.GetValue(steps), Math.Max(1, result.GetValue(every)), result.GetValue(features), result.GetValue(stepMs),
            result.GetValue(write) == "atomic", Math.Max(1, result.GetValue(keep)), result.GetValue(resume), result.GetValue(fail))))));
        return command;
    }

    /// <summary>Trains without checkpoints or pauses: the reference an interrupted run must match.</summary>
    public static LinearModel Reference(int steps, int features)
    {
        var model = new LinearModel(new ModelConfig(Features: features));
        while (model.Step < steps)
        {
            model.TrainStep();
        }

        return model;
    }

    private static int Train(TrainerSettings settings)
    {
        Directory.CreateDirectory(settings.Directory);
        var config = new ModelConfig(Features: settings.Features);
        var model = new LinearModel(config);
        if (settings.Resume && !DemoCheckpoints.TryLoadNewest(settings.Directory, model))
        {
            // Like sketch_rnn_train --resume_training: asked to resume from nothing is an error.
            throw new UsageException($"--resume: no checkpoint to resume from in '{settings.Directory}'");
        }

        File.WriteAllText(Path.Combine(settings.Directory, DemoCheckpoints.ConfigFile), JsonSerializer.Serialize(config, DemoJson.Default.ModelConfig));
        CliConsole.WriteLine(settings.Resume ? $"resumed at step {model.Step}" : "training from scratch");

        var stop = 0;
        var checkpointNow = 0;
        // The signals belong to the process: a trainer hosted inside another program leaves them alone.
        var ownsSignals = CliContext.Current.IsProcess;
        using var term = ownsSignals ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop = 143; }) : null;
        using var interrupt = ownsSignals ? PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop = 130; }) : null;
        using var usr1 = ownsSignals ? PosixSignalRegistration.Create((PosixSignal)SigUsr1, c => { c.Cancel = true; checkpointNow = 1; }) : null;
        var clock = Stopwatch.StartNew();
        while (model.Step < settings.Steps)
        {
            if (settings.FailAt == model.Step)
            {
                CliConsole.WriteLine($"failing at step {model.Step} as asked (--fail-at)");
                return ExitCodes.Failure;
            }

            var loss = model.TrainStep();
            CliConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {model.Step} loss {loss:0.000000}"));
            if (model.Step % settings.Every == 0 || model.Step == settings.Steps || Interlocked.Exchange(ref checkpointNow, 0) == 1 || Volatile.Read(ref stop) != 0)
            {
                DemoCheckpoints.Save(settings.Directory, model, settings.Atomic, settings.Keep);
                CliConsole.WriteLine($"checkpoint step {model.Step}");
            }

            if (Volatile.Read(ref stop) is var code && code != 0)
            {
                CliConsole.WriteLine($"stopping at step {model.Step} after a last checkpoint");
                return code;
            }

            if (settings.StepMs > 0)
            {
                Thread.Sleep(settings.StepMs);
            }
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(DemoCheckpoints.WeightBytes(model)));
        CliConsole.WriteLine($"done: {model.Step} steps in {clock.Elapsed.TotalSeconds:0.0}s; weights sha256 {hash}");
        return ExitCodes.Success;
    }

    private sealed record TrainerSettings(string Directory, int Steps, int Every, int Features, int StepMs, bool Atomic, int Keep, bool Resume, int? FailAt);
}
