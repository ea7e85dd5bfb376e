using System.Diagnostics;
using Baton.Compression;
using Baton.Repositories;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Format;

/// <summary>
/// docs/FORMAT.md is enough to read a repository: <c>tools/baton-read.py</c>, written from it alone, restores what the
/// CLI wrote, byte for byte: float-codec chunks, several runs, a run taken over (its newest manifest a fence) and a
/// run pruned with a repack.
/// </summary>
public sealed class IndependentReaderTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 600_000)]
    public async Task The_reader_written_from_the_spec_restores_what_baton_wrote()
    {
        var store = _temp.Combine("store");
        var a1 = WriteCheckpoint(_temp.Combine("a1"), modelSeed: 1);
        var a2 = WriteCheckpoint(_temp.Combine("a2"), modelSeed: 3);
        await PushAsync(a1, store, "a", 1);
        await PushAsync(a2, store, "a", 2, "--compression", "small");
        await TakeOverAsync(store, "a");

        var b10 = _temp.Combine("b10");
        var b11 = _temp.Combine("b11");
        foreach (var (dir, seed) in new[] { (b10, 10), (b11, 11) })
        {
            FloatFiles.Write(Path.Combine(dir, "keep.f32"), FloatFiles.Float32(5, 20_000));
            TestData.WriteRandomFile(Path.Combine(dir, "noise.bin"), 2_000_000, seed);
            await PushAsync(dir, store, "b", seed);
        }

        var prune = await BatonCli.RunAsync(["prune", "--store", store, "--run", "b", "--keep-last", "1"]);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Matches(@"repacked [1-9]\d* pack\(s\)", prune.StdOut);
        await AssertScenarioAsync(store);

        var listing = await PythonReader.RunAsync("ls", store);
        Assert.True(listing.ExitCode == 0, listing.ToString());
        Assert.Equal([("a", 1L, "1"), ("a", 2L, "2"), ("b", 2L, "11")], PythonReader.ParseListing(listing.StdOut));

        await AssertRestoresAsync(store, "a", a2);
        await AssertRestoresAsync(store, "a", a1, "--sequence", "1");
        await AssertRestoresAsync(store, "b", b11);

        var fence = await PythonReader.RunAsync("restore", store, "a", _temp.Combine("fence"), "--sequence", "3");
        Assert.True(fence.ExitCode == 2, fence.ToString());
        Assert.Contains("no snapshot with sequence 3", fence.StdErr, StringComparison.Ordinal);
    }

    // A checkpoint with float32 and bfloat16 tensors, a text file, an empty directory and a link.
    private static string WriteCheckpoint(string dir, int modelSeed)
    {
        FloatFiles.Write(Path.Combine(dir, "model.f32"), FloatFiles.Float32(modelSeed, 150_000));
        FloatFiles.Write(Path.Combine(dir, "sub", "embedding.bf16"), FloatFiles.Bfloat16(2, 200_000));
        File.WriteAllText(Path.Combine(dir, "config.json"), string.Concat(Enumerable.Repeat("{\"layers\": 12, \"width\": 768}\n", 40)));
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        File.CreateSymbolicLink(Path.Combine(dir, "latest"), "model.f32");
        return dir;
    }

    private static async Task PushAsync(string source, string store, string run, long step, params string[] extra)
    {
        var push = await BatonCli.RunAsync(["push", source, "--store", store, "--run", run, "--step", $"{step}", "--quiet", .. extra]);
        Assert.True(push.ExitCode == 0, push.ToString());
    }

    // A writer killed with its lease held, then a second writer that takes the run over: the run's highest manifest
    // is now the second writer's fence.
    private async Task TakeOverAsync(string store, string run)
    {
        var epochs = Path.Combine(store, "runs", run, "epochs");
        var before = Directory.Exists(epochs) ? Directory.GetFiles(epochs).Length : 0;
        var trainerPid = _temp.Combine("trainer.pid");
        using var holder = BatonCli.Start(["run", "--store", store, "--run", run, "--dir", _temp.Combine("held"), "--",
            "sh", "-c", $"echo $$ > '{trainerPid}'; exec sleep 600"]);
        holder.StandardInput.Close();
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(trainerPid) && File.ReadAllText(trainerPid).EndsWith('\n') && Directory.GetFiles(epochs).Length > before))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the first writer did not start");
            await Task.Delay(10);
        }

        Signals.Send(holder.Id, Signals.SigKill);
        Signals.Send(int.Parse(File.ReadAllText(trainerPid).Trim(), System.Globalization.CultureInfo.InvariantCulture), Signals.SigKill);
        await holder.WaitForExitAsync();

        var taker = await BatonCli.RunAsync(["run", "--store", store, "--run", run, "--dir", _temp.Combine("taker"), "--", "true"]);
        Assert.True(taker.ExitCode == 0, taker.ToString());
    }

    // The scenario holds what the reader must handle: float-codec chunks of both widths (codecs 2 and 3, pushed fast),
    // codec 4 chunks (the second checkpoint, pushed small) and a fence as the newest manifest of run a.
    private static async Task AssertScenarioAsync(string store)
    {
        await using var objects = new FolderStore(store);
        var repository = await Repository.OpenAsync(objects);
        var codecs = (await repository.LoadIndexAsync()).Blobs.Select(b => b.Value.Entry.Codec).ToHashSet();
        Assert.Contains(BlobCodec.Float32Planes, codecs);
        Assert.Contains(BlobCodec.Float16Planes, codecs);
        Assert.Contains(BlobCodec.FloatSegments, codecs);
        var newest = await repository.ReadSnapshotAsync(repository.SnapshotKey("a", 3));
        Assert.True(newest.Manifest.Fence, "the take-over should have left a fence as run a's newest manifest");
    }

    private async Task AssertRestoresAsync(string store, string run, string source, params string[] options)
    {
        var target = _temp.Combine($"restored-{run}-{Guid.NewGuid():N}");
        var restore = await PythonReader.RunAsync(["restore", store, run, target, .. options]);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TestData.AssertSameTree(source, target);
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Assert.True(Directory.Exists(Path.Combine(target, Path.GetRelativePath(source, directory))), $"{directory} was not restored");
        }

        var link = new FileInfo(Path.Combine(source, "latest"));
        if (link.LinkTarget is { } expected)
        {
            Assert.Equal(expected, new FileInfo(Path.Combine(target, "latest")).LinkTarget);
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => new FileInfo(f).LinkTarget is null))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            Assert.Equal(File.GetLastWriteTimeUtc(file), File.GetLastWriteTimeUtc(copy));
            Assert.Equal(File.GetUnixFileMode(file), File.GetUnixFileMode(copy));
        }
    }

    public void Dispose() => _temp.Dispose();
}
