using Baton.Testing;

namespace Baton.Tests;

public sealed class DedupTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task A_second_push_of_the_same_data_reads_nothing_and_stores_almost_nothing()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "model.bin"), 6_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "optimizer", "adam.bin"), 3_000_000, 2);
        var store = _temp.Combine("store");
        var first = await Cli.PushAsync(source, store, "r", "--step", "1");
        var sizeAfterFirst = StoreSize(store);

        var second = await Cli.PushAsync(source, store, "r", "--step", "2");

        Assert.Equal(9_000_000, first.GetProperty("bytesRead").GetInt64());
        Assert.Equal(9_000_000, first.GetProperty("bytesNew").GetInt64());
        Assert.Equal(0, second.GetProperty("bytesRead").GetInt64());
        Assert.Equal(0, second.GetProperty("bytesNew").GetInt64());
        Assert.Equal(0, second.GetProperty("bytesStored").GetInt64());
        var growth = StoreSize(store) - sizeAfterFirst;
        Assert.True(growth < 16_384, $"the store grew by {growth} bytes for an unchanged tree");
        var listed = await Cli.ListAsync(store, "--run", "r");
        Assert.Equal(0, listed[1].GetProperty("bytesRead").GetInt64());
    }

    [Fact(Timeout = 120_000)]
    public async Task A_touched_file_is_read_again_but_its_chunks_are_not_stored_again()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "model.bin"), 6_000_000, 3);
        TestData.WriteRandomFile(Path.Combine(source, "config.json"), 1_000, 4);
        var store = _temp.Combine("store");
        await Cli.PushAsync(source, store, "r");
        File.SetLastWriteTimeUtc(Path.Combine(source, "model.bin"), new DateTime(2022, 2, 2, 0, 0, 0, DateTimeKind.Utc));
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(source, "config-copy.json"));

        var second = await Cli.PushAsync(source, store, "r");

        Assert.Equal(6_001_000, second.GetProperty("bytesRead").GetInt64());
        Assert.Equal(0, second.GetProperty("bytesNew").GetInt64());
    }

    [Fact(Timeout = 120_000)]
    public async Task A_checkpoint_that_changed_in_part_stores_only_the_changed_part()
    {
        var source = _temp.Combine("src");
        var model = Path.Combine(source, "model.bin");
        TestData.WriteRandomFile(model, 40_000_000, 5);
        var store = _temp.Combine("store");
        await Cli.PushAsync(source, store, "r");
        await using (var stream = new FileStream(model, FileMode.Open, FileAccess.Write))
        {
            // One tensor in the middle of the file changed.
            stream.Position = 20_000_000;
            stream.Write(new byte[100_000]);
        }

        var second = await Cli.PushAsync(source, store, "r");

        Assert.Equal(40_000_000, second.GetProperty("bytesRead").GetInt64());
        var fresh = second.GetProperty("bytesNew").GetInt64();
        Assert.True(fresh is > 0 and < 20_000_000, $"{fresh} new bytes for a 100 kB change");
    }

    private static long StoreSize(string store) =>
        Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    public void Dispose() => _temp.Dispose();
}
