using System.CommandLine;
using Baton.Cli.Demo;

namespace Baton.Cli.Commands;

/// <summary><c>baton demo</c>: training that survives SIGKILLs of its machine, shown end to end in under a minute.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var preemptions = new Option<int>("--preemptions") { Description = "How many times the machine is lost (supervisor and trainer SIGKILLed)", HelpName = "N", DefaultValueFactory = _ => 3 };
        var steps = new Option<int>("--steps") { Description = "Training steps", HelpName = "N", DefaultValueFactory = _ => 300 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the preemption moments (random when not given)", HelpName = "N" };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary store and directories to look at" };
        var command = new Command("demo", "Train a small model under 'baton run' while its machine is SIGKILLed again and again; show nothing is lost")
        {
            preemptions, steps, seed, keep,
        };
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var count = result.GetValue(preemptions);
            var total = result.GetValue(steps);
            if (count < 0 || total < 30 || total < (count + 1) * 20)
            {
                throw new UsageException("--steps must be at least 30 and leave 20 steps per machine (--preemptions + 1 machines)");
            }

            var root = Directory.CreateTempSubdirectory("baton-demo-").FullName;
            var keepIt = result.GetValue(keep);
            try
            {
                var code = await new DemoRun(root, count, total, result.GetValue(seed) ?? Random.Shared.Next(1, 100_000), CliConsole.Out).RunAsync(cancellationToken);
                var store = Path.Combine(root, "store");
                CliConsole.WriteLine();
                CliConsole.WriteLine("try next:");
                if (keepIt)
                {
                    CliConsole.WriteLine($"  ./baton status --store {store} --run demo        # the legs again (kept: {root})");
                    CliConsole.WriteLine($"  ./baton ls --store {store} --run demo            # every snapshot");
                    CliConsole.WriteLine($"  ./baton check --store {store} --read-data        # verify every byte in the store");
                }
                else
                {
                    CliConsole.WriteLine("  ./baton demo --keep            # keep the store, then look with 'baton status', 'baton ls', 'baton check'");
                }

                CliConsole.WriteLine("  ./baton demo --preemptions 8   # lose the machine more often");
                CliConsole.WriteLine("  ./baton run --store ./store --run my-run --dir logs --resume-args \"--resume\" -- python train.py --log-dir logs");
                return code;
            }
            finally
            {
                if (!keepIt)
                {
                    Directory.Delete(root, recursive: true);
                }
            }
        }));
        return command;
    }
}
