using System.CommandLine;
using System.Diagnostics;
using Baton.Cli.Rendering;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage.Folder;

namespace Baton.Cli.Commands;

/// <summary>A self-contained tour: checkpoints pushed to a temporary folder store and restored on a "new machine".</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary store and directories to look at" };
        var command = new Command("demo", "Push and restore a generated checkpoint on a temporary folder store") { keep };
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var root = Directory.CreateTempSubdirectory("baton-demo-").FullName;
            try
            {
                await RunAsync(root, cancellationToken);
            }
            finally
            {
                if (!result.GetValue(keep))
                {
                    Directory.Delete(root, recursive: true);
                }
                else
                {
                    Console.WriteLine($"kept {root}");
                }
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static async Task RunAsync(string root, CancellationToken cancellationToken)
    {
        var storePath = Path.Combine(root, "store");
        var machineA = Path.Combine(root, "machine-a", "logs");
        var machineB = Path.Combine(root, "machine-b", "logs");
        Console.WriteLine($"store: {storePath} (a local folder store)");
        await using var store = new FolderStore(storePath);
        var repository = await Repository.OpenOrInitAsync(store, cancellationToken: cancellationToken);

        foreach (var step in new[] { 100, 200 })
        {
            WriteCheckpoint(machineA, step);
            var clock = Stopwatch.StartNew();
            var snapshot = await repository.PushAsync(machineA, "demo", new PushOptions { Step = step }, cancellationToken);
            var s = snapshot.Manifest.Stats;
            Console.WriteLine($"pushed step {step}: snapshot {snapshot.Id}, {Units.Bytes(s.Bytes)} read {Units.Bytes(s.BytesRead)}, new {Units.Bytes(s.BytesNew)}, stored {Units.Bytes(s.BytesStored)} in {Units.Duration(clock.Elapsed)}");
        }

        var newest = await repository.FindSnapshotAsync("demo", cancellationToken: cancellationToken)
            ?? throw new InvalidOperationException("the demo run has no snapshot");
        var restored = await repository.RestoreAsync(newest, machineB, cancellationToken: cancellationToken);
        Console.WriteLine($"restored step {newest.Manifest.Step} on a fresh directory: {restored.Files} files, {Units.Bytes(restored.Bytes)}, every chunk verified");
        foreach (var file in Directory.EnumerateFiles(machineA))
        {
            var twin = Path.Combine(machineB, Path.GetFileName(file));
            var original = await File.ReadAllBytesAsync(file, cancellationToken);
            var copy = await File.ReadAllBytesAsync(twin, cancellationToken);
            if (!original.AsSpan().SequenceEqual(copy))
            {
                throw new IntegrityException($"demo: restored '{Path.GetFileName(file)}' differs from the original");
            }
        }

        Console.WriteLine("restored files are bit-identical to the originals");
        Console.WriteLine();
        Console.WriteLine("next: baton push DIR --store PATH --run NAME, then baton ls / baton pull / baton check --read-data");
    }

    // A TensorFlow-style checkpoint (the seed's layout) with float32 weights that drift a little each step.
    private static void WriteCheckpoint(string directory, int step)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(7);
        var weights = new float[4 * 1024 * 1024];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)(random.NextDouble() - 0.5) * 0.04f + (step * 1e-6f * (i % 7));
        }

        var prefix = $"vector-{step}";
        File.WriteAllBytes(Path.Combine(directory, prefix + ".data-00000-of-00001"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()).ToArray());
        File.WriteAllText(Path.Combine(directory, prefix + ".index"), $"index for {prefix}\n");
        File.WriteAllText(Path.Combine(directory, prefix + ".meta"), $"graph for {prefix}\n");
        File.WriteAllText(Path.Combine(directory, "model_config.json"), "{\"data_set\": [\"eye.npz\"], \"num_steps\": 1001}\n");
        File.WriteAllText(Path.Combine(directory, "checkpoint"), $"model_checkpoint_path: \"{prefix}\"\nall_model_checkpoint_paths: \"{prefix}\"\n");
    }
}
