using System.Text.Json.Nodes;
using Baton.Testing;

namespace Baton.Tests.Metadata;

/// <summary>Manifests whose checksum matches but whose fields no writer writes: refused whole, before anything is done.</summary>
public sealed class ForgedManifestTests : IDisposable
{
    private const string First = "runs/r/snapshots/0000000001";
    private const string Second = "runs/r/snapshots/0000000002";
    private readonly TempDirectory _temp = new();
    private readonly string _store;
    private readonly string _source;

    public ForgedManifestTests()
    {
        _store = _temp.Combine("store");
        _source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(_source, "a.bin"), 300_000, 1);
        TestData.WriteRandomFile(Path.Combine(_source, "sub", "b.bin"), 100_000, 2);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_unknown_entry_kind_fails_pull_and_check_with_exit_4_naming_object_and_entry()
    {
        await Cli.PushAsync(_source, _store, "r");
        MetadataObjects.Edit(Path.Combine(_store, First), json => Entry(json, "a.bin")["kind"] = 7);
        var target = _temp.Combine("dst");

        var pull = await Cli.RunAsync("pull", target, "--store", _store, "--run", "r", "--quiet");
        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");

        Cli.AssertOneLineError(pull, 4, First, "'a.bin'", "kind 7");
        Assert.False(Directory.Exists(target));
        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains(First, check.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_out_of_range_time_fails_pull_with_exit_4_before_any_file_is_written()
    {
        await Cli.PushAsync(_source, _store, "r");
        MetadataObjects.Edit(Path.Combine(_store, First), json => Entry(json, "sub/b.bin")["mTime"] = long.MaxValue);
        var target = _temp.Combine("dst");
        Directory.CreateDirectory(target);

        var pull = await Cli.RunAsync("pull", target, "--store", _store, "--run", "r", "--quiet");

        Cli.AssertOneLineError(pull, 4, First, "'sub/b.bin'", "modification time");
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
    }

    [Theory(Timeout = 120_000)]
    [InlineData("mode", 1 << 20, "mode")]
    [InlineData("size", -1, "size -1 is negative")]
    public async Task A_forged_mode_or_size_fails_pull_with_exit_4_naming_the_field(string field, long value, string named)
    {
        await Cli.PushAsync(_source, _store, "r");
        MetadataObjects.Edit(Path.Combine(_store, First), json => Entry(json, "a.bin")[field] = value);

        var pull = await Cli.RunAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--quiet");

        Cli.AssertOneLineError(pull, 4, First, "'a.bin'", named);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_bad_chunk_id_fails_prune_with_exit_4_before_any_manifest_is_deleted()
    {
        await Cli.PushAsync(_source, _store, "r");
        File.WriteAllText(Path.Combine(_source, "c.txt"), "second");
        await Cli.PushAsync(_source, _store, "r");
        MetadataObjects.Edit(Path.Combine(_store, Second), json => Entry(json, "a.bin")["chunks"]![0] = "not-a-chunk-id");

        var prune = await Cli.RunAsync("prune", "--store", _store, "--run", "r", "--keep-last", "1", "--quiet");

        Cli.AssertOneLineError(prune, 4, Second, "'a.bin'", "chunk id");
        Assert.True(File.Exists(Path.Combine(_store, First)));
        Assert.True(File.Exists(Path.Combine(_store, Second)));
    }

    [Fact(Timeout = 120_000)]
    public async Task Check_names_a_file_whose_size_its_chunks_do_not_add_up_to()
    {
        await Cli.PushAsync(_source, _store, "r");
        MetadataObjects.Edit(Path.Combine(_store, First), json => Entry(json, "a.bin")["size"] = 300_001);

        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");

        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains("file 'a.bin' is recorded as 300001 bytes but its chunks add up to 300000", check.StdOut, StringComparison.Ordinal);
    }

    private static JsonObject Entry(JsonObject manifest, string path) =>
        manifest["entries"]!.AsArray().Select(e => e!.AsObject()).Single(e => (string?)e["path"] == path);

    public void Dispose() => _temp.Dispose();
}
