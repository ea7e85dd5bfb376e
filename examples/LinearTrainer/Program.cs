// A C# trainer that survives its machine with the Baton library: it restores the newest snapshot of its run,
// trains a linear model by SGD on generated data, writes a checkpoint every few steps and snapshots it in the
// background while training goes on. Kill it at any moment and run it again (even on an empty directory): it
// resumes from the last snapshot and ends with the same weights as an uninterrupted run.
//
//   dotnet run --project examples/LinearTrainer -- STORE_FOLDER RUN_NAME CHECKPOINT_DIR [STEPS] [MS_PER_STEP]
using System.Buffers.Binary;
using Baton.Runs;
using Baton.Storage.Folder;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: LinearTrainer STORE_FOLDER RUN_NAME CHECKPOINT_DIR [STEPS] [MS_PER_STEP]");
    return 2;
}

var (storePath, runName, checkpointDir) = (args[0], args[1], args[2]);
var steps = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 400;
var pause = TimeSpan.FromMilliseconds(args.Length > 4 ? int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 0); // stands in for real work
const int Features = 64;
const int CheckpointEvery = 50;

await using var run = await TrainingRun.OpenAsync(new FolderStore(storePath), runName);
var restored = await run.RestoreLatestAsync(checkpointDir);
var weights = new double[Features];
var start = 0;
if (restored is not null)
{
    start = (int)restored.Manifest.Step!.Value;
    weights = ReadWeights(Path.Combine(checkpointDir, "weights.bin"));
    Console.WriteLine($"resumed from step {start} (snapshot {restored.Id})");
}

for (var step = start + 1; step <= steps; step++)
{
    var loss = TrainStep(weights, step);
    await Task.Delay(pause);
    if (step % CheckpointEvery == 0 || step == steps)
    {
        WriteCheckpoint(checkpointDir, weights, step);
        _ = run.SnapshotInBackground(checkpointDir, step);
        Console.WriteLine($"step {step} loss {loss:F6} checkpoint");
    }
}

await run.FlushAsync();
await run.SnapshotAsync(checkpointDir, steps); // the final checkpoint is durable before we exit
Console.WriteLine($"done: {steps} steps");
return 0;

// One SGD step on a batch generated from the step number, so that a resumed run sees exactly the same data.
static double TrainStep(double[] weights, int step)
{
    var data = new Random(step);
    double loss = 0;
    var gradient = new double[weights.Length];
    for (var sample = 0; sample < 32; sample++)
    {
        var x = new double[weights.Length];
        double target = 0, prediction = 0;
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = data.NextDouble() - 0.5;
            target += x[i] * Math.Sin(i + 1);
            prediction += x[i] * weights[i];
        }

        var error = prediction - target;
        loss += error * error / 32;
        for (var i = 0; i < x.Length; i++)
        {
            gradient[i] += 2 * error * x[i] / 32;
        }
    }

    for (var i = 0; i < weights.Length; i++)
    {
        weights[i] -= 0.05 * gradient[i];
    }

    return loss;
}

// Written to a temporary name and renamed, as careful trainers do; Baton copes with careless ones too.
static void WriteCheckpoint(string directory, double[] weights, int step)
{
    Directory.CreateDirectory(directory);
    var bytes = new byte[weights.Length * 8];
    for (var i = 0; i < weights.Length; i++)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), weights[i]);
    }

    var temp = Path.Combine(directory, "weights.bin.tmp");
    File.WriteAllBytes(temp, bytes);
    File.Move(temp, Path.Combine(directory, "weights.bin"), overwrite: true);
    File.WriteAllText(Path.Combine(directory, "step.txt"), step.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

static double[] ReadWeights(string path)
{
    var bytes = File.ReadAllBytes(path);
    var weights = new double[bytes.Length / 8];
    for (var i = 0; i < weights.Length; i++)
    {
        weights[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
    }

    return weights;
}
