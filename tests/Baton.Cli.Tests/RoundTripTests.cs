using Baton.Testing;

namespace Baton.Tests;

public sealed class RoundTripTests : IDisposable
{
    private static readonly UnixFileMode Rw = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly UnixFileMode Rwx = Rw | UnixFileMode.UserExecute;
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task A_tree_of_every_kind_of_entry_comes_back_with_its_bytes_modes_times_and_links()
    {
        var source = _temp.Combine("src");
        var random = new Random(1);
        TestData.WriteRandomFile(Path.Combine(source, "a", "b", "c", "d", "e", "deep.bin"), 300_000, 2);
        TestData.WriteRandomFile(Path.Combine(source, "données", "modèle-ü.bin"), 70_000, 3);
        TestData.WriteRandomFile(Path.Combine(source, "日本語", "チェックポイント.pt"), 5_000, 4);
        await File.WriteAllTextAsync(Path.Combine(source, "emoji-🚀 and 'quotes' \"too\".txt"), "🚀");
        await File.WriteAllBytesAsync(Path.Combine(source, "empty.bin"), []);
        await File.WriteAllBytesAsync(Path.Combine(source, "a", "empty-too"), []);
        Directory.CreateDirectory(Path.Combine(source, "empty-dir"));
        Directory.CreateDirectory(Path.Combine(source, "a", "b", "empty-nested"));
        await File.WriteAllTextAsync(Path.Combine(source, "run.sh"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(source, "run.sh"), Rwx | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        TestData.WriteRandomFile(Path.Combine(source, "secret.key"), 100, 5);
        File.SetUnixFileMode(Path.Combine(source, "secret.key"), Rw);
        TestData.WriteRandomFile(Path.Combine(source, "frozen.bin"), 1_000, 6);
        File.SetUnixFileMode(Path.Combine(source, "frozen.bin"), UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(Path.Combine(source, "a", "b"), Rwx);
        File.CreateSymbolicLink(Path.Combine(source, "latest"), "a/b/c");
        File.CreateSymbolicLink(Path.Combine(source, "a", "up"), "../données/modèle-ü.bin");
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos("*", SearchOption.AllDirectories)
                     .Where(e => e.LinkTarget is null).OrderByDescending(e => e.FullName.Length))
        {
            // Times with sub-second digits, far from now, different for each entry.
            entry.LastWriteTimeUtc = new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(random.NextInt64(0, TimeSpan.TicksPerDay * 300));
        }

        var store = _temp.Combine("store");
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--quiet");
        var target = _temp.Combine("dst");
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--quiet");

        TreeAssert.Same(source, target);
    }

    [Fact(Timeout = 180_000)]
    public async Task Two_thousand_small_files_round_trip()
    {
        var source = _temp.Combine("src");
        var random = new Random(7);
        var contents = Enumerable.Range(0, 1500).Select(_ => new byte[random.Next(0, 3000)]).ToList();
        contents.ForEach(random.NextBytes);
        for (var i = 0; i < 20; i++)
        {
            Directory.CreateDirectory(Path.Combine(source, $"shard-{i:D2}"));
        }

        for (var i = 0; i < 2000; i++)
        {
            // Some files share their bytes.
            await File.WriteAllBytesAsync(Path.Combine(source, $"shard-{i % 20:D2}", $"tensor-{i:D4}.bin"), contents[i % contents.Count]);
        }

        var store = _temp.Combine("store");
        var pushed = await Cli.PushAsync(source, store, "r");
        var target = _temp.Combine("dst");
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--quiet");

        Assert.Equal(2000, pushed.GetProperty("files").GetInt64());
        TreeAssert.Same(source, target);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_file_of_a_quarter_gibibyte_round_trips()
    {
        // Sparse, with random islands at unaligned offsets: the holes dedupe to one chunk, the islands do not.
        const long size = (256L << 20) + 12_345;
        var source = _temp.Combine("src");
        Directory.CreateDirectory(source);
        var big = Path.Combine(source, "model.safetensors");
        await using (var stream = new FileStream(big, FileMode.CreateNew, FileAccess.Write))
        {
            stream.SetLength(size);
            var random = new Random(8);
            var island = new byte[3 << 20];
            foreach (var offset in new[] { 0L, 77L << 20, (160L << 20) + 4097, size - island.Length })
            {
                random.NextBytes(island);
                stream.Position = offset;
                await stream.WriteAsync(island);
            }
        }

        var store = _temp.Combine("store");
        var pushed = await Cli.PushAsync(source, store, "r");
        var target = _temp.Combine("dst");
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--quiet");

        Assert.Equal(size, pushed.GetProperty("bytes").GetInt64());
        Assert.True(pushed.GetProperty("bytesStored").GetInt64() < 64L << 20, $"stored {pushed.GetProperty("bytesStored")} bytes");
        Assert.Equal(size, new FileInfo(Path.Combine(target, "model.safetensors")).Length);
        Assert.True(TestData.FilesEqual(big, Path.Combine(target, "model.safetensors")), "the large file differs after the round trip");
    }

    [Fact(Timeout = 120_000)]
    public async Task Pulling_over_an_older_restore_brings_the_tree_to_the_newer_snapshot()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "model.bin"), 1_000_000, 9);
        TestData.WriteRandomFile(Path.Combine(source, "opt", "state.bin"), 100_000, 10);
        var store = _temp.Combine("store");
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--step", "1", "--quiet");
        var target = _temp.Combine("dst");
        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--quiet");
        TestData.WriteRandomFile(Path.Combine(source, "model.bin"), 900_000, 11);
        TestData.WriteRandomFile(Path.Combine(source, "opt", "state.bin"), 200_000, 12);
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--step", "2", "--quiet");

        await Cli.SucceedAsync("pull", target, "--store", store, "--run", "r", "--overwrite", "--quiet");

        TreeAssert.Same(source, target);
    }

    public void Dispose() => _temp.Dispose();
}
