using System.Globalization;
using System.Text.Json;
using Baton.Cli.Demo;
using Baton.Testing;
using Baton.Tests.Run;
using Xunit.Abstractions;

namespace Baton.Tests.Chaos;

/// <summary>
/// Kills <c>baton run</c> as a lost machine dies (the supervisor and its trainer's process group, SIGKILL) at 30
/// random moments (seeded; set BATON_CHAOS_SEED to repeat a run): during start-up, lease, restore, trainer launch,
/// pushes and the retention prunes that follow them. The next machine (a fresh disk, or the same disk as a restarted
/// VM would have) must always take the run over; every ten kills, and at the end, <c>check --read-data</c> passes and
/// the newest committed snapshot restores bit-identical to what the deterministic trainer writes at that step.
/// </summary>
public sealed class RunCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Kills = 30;
    private const int CheckEvery = 10;
    private const int Features = 8192;
    private static readonly TimeSpan LineTimeout = TimeSpan.FromSeconds(120);
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 600_000)]
    public async Task A_run_killed_at_random_moments_is_always_taken_over_and_its_newest_snapshot_is_what_the_trainer_wrote()
    {
        var seed = Environment.GetEnvironmentVariable("BATON_CHAOS_SEED") is { Length: > 0 } given
            ? int.Parse(given, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"seed {seed} (BATON_CHAOS_SEED={seed} repeats this run)");
        var random = new Random(seed);
        var store = _temp.Combine("store");
        var reference = new ReferenceTrainer(Features);
        var story = new List<string> { $"seed {seed}" };
        var machine = 0;
        var held = false;
        for (var kill = 1; kill <= Kills; kill++)
        {
            machine += kill == 1 || random.Next(3) == 0 ? 1 : 0;
            var takeOver = random.Next(4) == 0;
            var afterPush = kill % CheckEvery == 0 || random.Next(5) < 3;
            var delay = afterPush ? random.Next(0, 400) : random.Next(0, 2500);
            story.Add($"#{kill}: machine {machine}{(takeOver ? ", --take-over" : "")}, killed {delay} ms after {(afterPush ? "a push" : "launch")}");
            await using var run = Start(store, machine, takeOver);
            if (afterPush)
            {
                await run.WaitForLineAsync(@"^baton: pushed step ", timeout: LineTimeout);
            }

            await Task.Delay(delay);
            var exit = await KillMachineAsync(run);
            Assert.True(exit == 128 + Signals.SigKill, $"baton run ended by itself (exit {exit}) before it was killed; {Story(story)}\n{run.Tail()}");

            // A run that started its trainer held the lease and never released it: every later writer takes it over.
            var started = run.Lines.Any(l => l.StartsWith("baton: started ", StringComparison.Ordinal));
            Assert.True(!started || !held || run.Lines.Any(l => l.StartsWith("baton: took run 'r' over from ", StringComparison.Ordinal)),
                $"a run started its trainer without taking the run over; {Story(story)}\n{run.Tail()}");
            held |= started;
            if (kill % CheckEvery == 0)
            {
                await VerifyAsync(store, reference, story);
            }
        }

        // The next machine takes over, commits, and stops cleanly on SIGTERM with its last checkpoint pushed.
        await using var last = Start(store, machine + 1, takeOver: false);
        await last.WaitForLineAsync(@"^baton: took run 'r' over from ", timeout: LineTimeout);
        await last.WaitForLineAsync(@"^baton: pushed step ", timeout: LineTimeout);
        last.Signal(Signals.SigTerm);
        Assert.True(await last.WaitForExitAsync(LineTimeout) == 128 + Signals.SigTerm, $"{Story(story)}\n{last.Tail()}");
        await VerifyAsync(store, reference, story);
    }

    public void Dispose() => _temp.Dispose();

    private static string Story(List<string> story) => string.Join("; ", story.Count > 12 ? [story[0], "…", .. story.TakeLast(10)] : story);

    private SupervisedRun Start(string store, int machine, bool takeOver)
    {
        var dir = _temp.Combine($"machine-{machine}", "logs");
        string[] options = ["--format", "tf", "--resume-args=--resume", "--crash-loop", "0", "--keep-last", "3", .. takeOver ? ["--take-over"] : Array.Empty<string>()];
        // A checkpoint every 250 ms: each one stays the newest for longer than the 150 ms its files need to settle, so
        // that it can be found before the next one replaces it.
        return SupervisedRun.Start(
            RunFixtures.Run(store, dir, options,
                RunFixtures.DemoTrainer(dir, "--steps", "1000000", "--every", "25", "--step-ms", "10", "--features", $"{Features}")),
            _temp.Path);
    }

    // The machine is lost: freeze the supervisor so that it starts nothing more, kill its trainer (by pid and by
    // process group, whether or not it has set its group yet), then the supervisor; wait until all of them are gone.
    private static async Task<int> KillMachineAsync(SupervisedRun run)
    {
        Signals.Send(run.Pid, Signals.SigStop);
        var children = ChildrenOf(run.Pid);
        foreach (var child in children)
        {
            Signals.Send(child, Signals.SigKill);
            Signals.Send(-child, Signals.SigKill);
        }

        run.KillSupervisor();
        foreach (var trainer in run.TrainerPids)
        {
            Signals.Send(-trainer, Signals.SigKill);
        }

        var exit = await run.WaitForExitAsync(TimeSpan.FromSeconds(30));
        for (var wait = 0; children.Any(RunFixtures.IsAlive); wait++)
        {
            Assert.True(wait < 500, $"trainer {string.Join(", ", children.Where(RunFixtures.IsAlive))} outlived its SIGKILL");
            await Task.Delay(20);
        }

        return exit;
    }

    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(entry, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile
            }
        }

        return children;
    }

    // check --read-data passes, and the newest snapshot holds exactly the trainer's checkpoint at its step.
    private async Task VerifyAsync(string store, ReferenceTrainer reference, List<string> story)
    {
        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, $"{Story(story)}\n{check}");
        var ls = await BatonCli.RunAsync(["ls", "--store", store, "--run", "r", "--json"]);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        var steps = JsonDocument.Parse(ls.StdOut).RootElement.EnumerateArray().Select(e => e.GetProperty("step").GetInt64()).ToList();
        Assert.True(steps.Count > 0, $"nothing was committed; {Story(story)}");
        var step = steps[^1];
        var target = _temp.Combine("verify", Guid.NewGuid().ToString("N")[..8]);
        var pull = await BatonCli.RunAsync(["pull", target, "--store", store, "--run", "r", "--quiet"]);
        Assert.True(pull.ExitCode == 0, $"{Story(story)}\n{pull}");

        var expected = reference.WriteCheckpoint(step, _temp.Combine("reference", $"{step}"));
        var files = Directory.EnumerateFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Select(Path.GetFileName).Append(DemoCheckpoints.StateFile).Order(StringComparer.Ordinal), files);
        foreach (var file in expected)
        {
            Assert.True(TestData.FilesEqual(file, Path.Combine(target, Path.GetFileName(file))),
                $"step {step}: '{Path.GetFileName(file)}' differs from what the trainer writes at that step; {Story(story)}");
        }

        Assert.Equal(step, DemoCheckpoints.NamedStep(target));
        story.Add($"verified step {step}");
        output.WriteLine($"after {story.Count(s => s.StartsWith('#'))} kills: step {step} verified, {steps.Count} snapshot(s) kept");
        Directory.Delete(target, recursive: true);
    }

    /// <summary>The demo trainer's checkpoints computed in-process, uninterrupted, advancing as the steps asked for grow.</summary>
    private sealed class ReferenceTrainer(int features)
    {
        private readonly ModelConfig _config = new(Features: features);
        private LinearModel? _model;

        /// <summary>Writes the trainer's files for <paramref name="step"/> (all but the state file) and returns their paths.</summary>
        public List<string> WriteCheckpoint(long step, string directory)
        {
            if (_model is null || _model.Step > step)
            {
                _model = new LinearModel(_config);
            }

            while (_model.Step < step)
            {
                _model.TrainStep();
            }

            Directory.CreateDirectory(directory);
            DemoCheckpoints.Save(directory, _model, atomic: true, keep: 1);
            var config = Path.Combine(directory, DemoCheckpoints.ConfigFile);
            File.WriteAllText(config, JsonSerializer.Serialize(_config, DemoJson.Default.ModelConfig));
            return [Path.Combine(directory, DemoCheckpoints.DataFile(step)), Path.Combine(directory, DemoCheckpoints.IndexFile(step)), config];
        }
    }
}
