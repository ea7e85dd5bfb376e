using Baton.Testing;

namespace Baton.Tests;

public sealed class IntegrityTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _store;
    private readonly string _source;

    public IntegrityTests()
    {
        _store = _temp.Combine("store");
        _source = _temp.Combine("src");

        // One file with data (its chunks fill the only pack) and an empty one.
        TestData.WriteRandomFile(Path.Combine(_source, "model.bin"), 3_000_000, 1);
        File.WriteAllBytes(Path.Combine(_source, "empty.txt"), []);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_flipped_bit_in_a_pack_fails_pull_with_exit_4_naming_snapshot_file_and_pack_and_leaves_no_file()
    {
        var id = (await Cli.PushAsync(_source, _store, "r")).GetProperty("id").GetString()!;
        var pack = SinglePack();
        FlipBit(pack, 8 + 1000);
        var target = _temp.Combine("dst");

        var pull = await Cli.RunAsync("pull", target, "--store", _store, "--run", "r", "--quiet");

        Cli.AssertOneLineError(pull, 4, id, "'model.bin'", KeyOf(pack));
        Assert.Empty(Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories));
    }

    [Fact(Timeout = 120_000)]
    public async Task Check_read_data_finds_a_flipped_bit_in_a_pack_and_names_it()
    {
        await Cli.PushAsync(_source, _store, "r");
        var clean = await Cli.RunAsync("check", "--store", _store, "--read-data", "--quiet");
        var pack = SinglePack();
        FlipBit(pack, new FileInfo(pack).Length / 2);

        var check = await Cli.RunAsync("check", "--store", _store, "--read-data", "--quiet");

        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.Contains("no errors", clean.StdOut, StringComparison.Ordinal);
        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains($"error: pack {KeyOf(pack)}", check.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_flipped_bit_in_a_manifest_fails_ls_pull_and_check_with_exit_4_naming_it()
    {
        await Cli.PushAsync(_source, _store, "r");
        const string key = "runs/r/snapshots/0000000001";
        FlipBit(Path.Combine(_store, key), 60);

        var ls = await Cli.RunAsync("ls", "--store", _store);
        var pull = await Cli.RunAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--quiet");
        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");

        Cli.AssertOneLineError(ls, 4, key);
        Cli.AssertOneLineError(pull, 4, key);
        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains(key, check.StdOut, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Combine("dst")));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_deleted_pack_fails_check_and_pull_with_exit_4_naming_it()
    {
        await Cli.PushAsync(_source, _store, "r");
        var pack = SinglePack();
        File.Delete(pack);

        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");
        var pull = await Cli.RunAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--quiet");

        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains(KeyOf(pack), check.StdOut, StringComparison.Ordinal);
        Cli.AssertOneLineError(pull, 4, KeyOf(pack));
    }

    [Fact(Timeout = 120_000)]
    public async Task An_unindexed_pack_is_a_warning_and_check_still_exits_0()
    {
        await Cli.PushAsync(_source, _store, "r");
        var other = _temp.Combine("other");
        var otherSource = _temp.Combine("other-src");
        TestData.WriteRandomFile(Path.Combine(otherSource, "x.bin"), 500_000, 2);
        await Cli.PushAsync(otherSource, other, "r");
        var orphan = Directory.EnumerateFiles(Path.Combine(other, "data"), "*", SearchOption.AllDirectories).Single();
        var copy = Path.Combine(_store, Path.GetRelativePath(other, orphan));
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(orphan, copy);

        var check = await Cli.RunAsync("check", "--store", _store, "--read-data", "--quiet");

        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Contains($"warning: pack {KeyOf(copy)} is not indexed", check.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("error:", check.StdOut, StringComparison.Ordinal);
        Assert.Contains("no errors, 1 warning(s)", check.StdOut, StringComparison.Ordinal);
    }

    private string SinglePack() => Directory.EnumerateFiles(Path.Combine(_store, "data"), "*", SearchOption.AllDirectories).Single();

    private string KeyOf(string path) => Path.GetRelativePath(_store, path).Replace(Path.DirectorySeparatorChar, '/');

    private static void FlipBit(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ 0x04));
    }

    public void Dispose() => _temp.Dispose();
}
