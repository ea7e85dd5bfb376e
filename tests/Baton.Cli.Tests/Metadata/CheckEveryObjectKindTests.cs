using Baton.Testing;

namespace Baton.Tests.Metadata;

public sealed class CheckEveryObjectKindTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Check_names_each_damaged_object_of_every_kind_by_key()
    {
        var store = _temp.Combine("store");
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "model.bin"), 100_000, 1);
        await Cli.PushAsync(source, store, "r");
        await Cli.SucceedAsync("tag", "best", "--store", store, "--run", "r");
        var clean = await Cli.RunAsync("check", "--store", store, "--quiet");

        // Kinds a short push leaves no object of are copies of one (any damaged object fails the same way).
        var tag = Path.Combine(store, "runs/r/tags/best");
        foreach (var copy in new[] { "runs/r/legs/20260101T000000000Z-abcdef", "gc/0000damaged", "inflight/0000damaged" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(store, copy))!);
            File.Copy(tag, Path.Combine(store, copy));
        }

        string[] damaged =
        [
            "runs/r/epochs/0000000001", "runs/r/heartbeats/0000000001", "runs/r/tags/best",
            "runs/r/legs/20260101T000000000Z-abcdef", "gc/0000damaged", "inflight/0000damaged",
        ];
        foreach (var key in damaged)
        {
            MetadataObjects.FlipBit(Path.Combine(store, key));
        }

        var check = await Cli.RunAsync("check", "--store", store, "--read-data", "--quiet");

        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.True(check.ExitCode == 4, check.ToString());
        foreach (var key in damaged)
        {
            Assert.Contains($"error: '{key}' in {store} is corrupt: checksum mismatch", check.StdOut, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _temp.Dispose();
}
