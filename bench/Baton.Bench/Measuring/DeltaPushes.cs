using System.Diagnostics;
using Baton.Compression;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage.Folder;

namespace Baton.Bench.Measuring;

/// <summary>
/// What the push stores for consecutive checkpoints of one run, with and without deltas against the previous snapshot
/// (codec 5), under <c>--compression small</c>: each file of a series is copied in turn over one checkpoint file and
/// pushed through the library into a folder repository, as <c>baton run</c> pushes a checkpoint rewritten in place.
/// Both settings run in the same process, one series after the other, so their CPU and wall ratios hold on a loaded
/// machine. Usage: <c>baton-bench pushes NAME=FOLDER...</c>, each folder's files in name order.
/// </summary>
internal static class DeltaPushes
{
    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, TextWriter output)
    {
        await output.WriteLineAsync($"{"series",-12} {"pushes",6} {"raw MB",8} | {"plain MB",9} {"delta MB",9} {"saved",6} | {"later plain",11} {"later delta",11} {"saved",6} | {"cpu s plain",11} {"cpu s delta",11} {"wall s plain",12} {"wall s delta",12}");
        foreach (var argument in arguments)
        {
            var (name, folder) = argument.Split('=', 2) is [var n, var p] ? (n, p) : (Path.GetFileName(argument), argument);
            var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToArray();
            var plain = await PushSeriesAsync(files, deltas: false);
            var delta = await PushSeriesAsync(files, deltas: true);
            var raw = files.Sum(f => new FileInfo(f).Length);
            await output.WriteLineAsync(
                $"{name,-12} {files.Length,6} {raw / 1e6,8:F1} | {plain.Stored / 1e6,9:F1} {delta.Stored / 1e6,9:F1} {Saved(plain.Stored, delta.Stored),6} | " +
                $"{plain.Later / 1e6,11:F1} {delta.Later / 1e6,11:F1} {Saved(plain.Later, delta.Later),6} | " +
                $"{plain.Cpu.TotalSeconds,11:F1} {delta.Cpu.TotalSeconds,11:F1} {plain.Wall.TotalSeconds,12:F1} {delta.Wall.TotalSeconds,12:F1}");
            await output.WriteLineAsync($"{"",-12} delta blobs: {delta.DeltaBlobs} of {delta.Blobs}; pushes after the first: stored/raw {Ratio(plain.Later, delta.LaterRaw)} plain, {Ratio(delta.Later, delta.LaterRaw)} delta");
        }

        return 0;
    }

    private static string Saved(long plain, long delta) => plain == 0 ? "-" : $"{100.0 * (plain - delta) / plain:F1}%";

    private static string Ratio(long stored, long raw) => raw == 0 ? "-" : $"{(double)stored / raw:F3}";

    private static async Task<SeriesResult> PushSeriesAsync(string[] files, bool deltas)
    {
        var work = Path.Combine(Path.GetTempPath(), $"baton-bench-deltas-{Guid.NewGuid():N}");
        var store = Path.Combine(work, "store");
        var checkpoint = Path.Combine(work, "ckpt");
        Directory.CreateDirectory(checkpoint);
        try
        {
            await using var objects = new FolderStore(store);
            var repository = await Repository.InitAsync(objects);
            var result = new SeriesResult();
            var process = Process.GetCurrentProcess();
            for (var i = 0; i < files.Length; i++)
            {
                // Rewritten in place, as a trainer rewrites its checkpoint file.
                await using (var source = File.OpenRead(files[i]))
                await using (var target = new FileStream(Path.Combine(checkpoint, "model.pt"), FileMode.OpenOrCreate, FileAccess.Write))
                {
                    target.SetLength(0);
                    await source.CopyToAsync(target);
                }

                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                var snapshot = await repository.PushAsync(checkpoint, "series", new PushOptions
                {
                    Step = i + 1,
                    Compression = CompressionChoice.Small,
                    Deltas = deltas,
                });
                var wall = clock.Elapsed;
                process.Refresh();
                var stored = snapshot.Manifest.Stats!.BytesStored;
                result.Stored += stored;
                if (i > 0)
                {
                    result.Later += stored;
                    result.LaterRaw += new FileInfo(files[i]).Length;
                    result.Cpu += process.TotalProcessorTime - cpu;
                    result.Wall += wall;
                }
            }

            var index = await repository.LoadIndexAsync();
            result.Blobs = index.BlobCount;
            result.DeltaBlobs = index.Blobs.Count(b => b.Value.Entry.Codec == BlobCodec.Delta);
            return result;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed class SeriesResult
    {
        public long Stored { get; set; }

        public long Later { get; set; }

        public long LaterRaw { get; set; }

        public TimeSpan Cpu { get; set; }

        public TimeSpan Wall { get; set; }

        public int Blobs { get; set; }

        public int DeltaBlobs { get; set; }
    }
}
