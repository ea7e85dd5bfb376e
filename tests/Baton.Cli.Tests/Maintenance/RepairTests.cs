using Baton.Testing;

namespace Baton.Tests.Maintenance;

/// <summary>A lost or damaged pack never poisons later pushes of the same bytes, and <c>baton repair</c> makes the store fit again.</summary>
public sealed class RepairTests : IDisposable
{
    private const string Password = "amber-heron-17 wades";
    private readonly TempDirectory _temp = new();
    private readonly string _store;
    private readonly string _source;
    private readonly string _passwordFile;

    public RepairTests()
    {
        _store = _temp.Combine("store");
        _source = _temp.Combine("ckpt");
        _passwordFile = _temp.Combine("password.txt");
        File.WriteAllText(_passwordFile, Password + "\n");
        // One file with data (its chunks fill the only pack) and a small side file.
        TestData.WriteRandomFile(Path.Combine(_source, "model.bin"), 3_000_000, 11);
        File.WriteAllText(Path.Combine(_source, "config.json"), "{\"lr\": 0.001}");
    }

    [Theory(Timeout = 240_000)]
    [InlineData("r")]
    [InlineData("r-new")]
    public async Task A_push_after_the_pack_was_deleted_by_hand_stores_the_chunks_again_and_pull_restores_it(string secondRun)
    {
        await Cli.PushAsync(_source, _store, "r", "--step", "100");
        File.Delete(SinglePack());

        var again = await Cli.PushAsync(_source, _store, secondRun, "--step", "100");
        var pull = await Cli.RunAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", secondRun, "--quiet");
        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");
        var repair = await Cli.RunAsync("repair", "--store", _store, "--quiet");
        var checkAfter = await Cli.RunAsync("check", "--store", _store, "--read-data", "--quiet");

        Assert.True(again.GetProperty("bytesNew").GetInt64() >= 3_000_000, again.ToString());
        Assert.True(pull.ExitCode == 0, pull.ToString());
        TestData.AssertSameTree(_source, _temp.Combine("dst"));
        // Unless the new pack came out byte for byte the deleted one (same name), the index still names the deleted pack
        // beside the new copy: check says so, and repair drops it.
        Assert.True(check.ExitCode == 0 || check.StdOut.Contains("run 'baton repair' with the same store so that", StringComparison.Ordinal), check.ToString());
        Assert.True(repair.ExitCode == 0, repair.ToString());
        Assert.DoesNotContain(" lost ", repair.StdOut, StringComparison.Ordinal);
        Assert.True(checkAfter.ExitCode == 0, checkAfter.ToString());
    }

    [Fact(Timeout = 240_000)]
    public async Task A_push_after_check_and_prune_met_a_deleted_pack_stores_the_chunks_again_and_pull_restores_it()
    {
        await Cli.PushAsync(_source, _store, "r", "--step", "100");
        File.Delete(SinglePack());
        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");
        await Cli.SucceedAsync("prune", "--store", _store, "--run", "r", "--keep-last", "1", "--quiet");

        var again = await Cli.PushAsync(_source, _store, "r2", "--step", "100");
        var pull = await Cli.RunAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r2", "--quiet");

        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains("run 'baton repair'", check.StdOut, StringComparison.Ordinal);
        Assert.True(again.GetProperty("bytesNew").GetInt64() >= 3_000_000, again.ToString());
        Assert.True(pull.ExitCode == 0, pull.ToString());
        TestData.AssertSameTree(_source, _temp.Combine("dst"));
    }

    [Fact(Timeout = 300_000)]
    public async Task A_flipped_bit_is_named_by_check_dropped_by_repair_and_the_next_push_makes_everything_restorable()
    {
        var first = (await Cli.PushAsync(_source, _store, "r", "--step", "100")).GetProperty("id").GetString()!;
        var pack = SinglePack();
        FlipBit(pack, new FileInfo(pack).Length / 2);

        var check = await Cli.RunAsync("check", "--store", _store, "--read-data", "--quiet");
        var indexBefore = IndexObjects();
        var dryRun = await Cli.RunAsync("repair", "--store", _store, "--read-data", "--dry-run", "--quiet");
        var indexAfterDryRun = IndexObjects();
        var repair = await Cli.RunAsync("repair", "--store", _store, "--read-data", "--quiet");
        var indexAfterRepair = IndexObjects();
        var again = await Cli.PushAsync(_source, _store, "r", "--step", "100");
        var checkAfter = await Cli.RunAsync("check", "--store", _store, "--read-data", "--quiet");

        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains($"error: pack {KeyOf(pack)}", check.StdOut, StringComparison.Ordinal);
        Assert.Contains("run 'baton repair' with the same store and --read-data", check.StdOut, StringComparison.Ordinal);
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains($"would drop pack {KeyOf(pack)}", dryRun.StdOut, StringComparison.Ordinal);
        Assert.Equal(indexBefore, indexAfterDryRun);
        Assert.True(repair.ExitCode == 0, repair.ToString());
        Assert.Contains($"dropped pack {KeyOf(pack)} from the index (3 chunk(s), 2 intact one(s) were copied into a new pack)", repair.StdOut, StringComparison.Ordinal);
        Assert.Contains($"snapshot {first[..8]}", repair.StdOut, StringComparison.Ordinal);
        Assert.Contains("(run 'r', #1, step 100) lost 1 file(s): 'model.bin'", repair.StdOut, StringComparison.Ordinal);
        Assert.Empty(indexBefore.Intersect(indexAfterRepair));
        Assert.True(again.GetProperty("bytesNew").GetInt64() > 0, again.ToString());
        Assert.True(checkAfter.ExitCode == 0, checkAfter.ToString());
        Assert.Contains("no errors", checkAfter.StdOut, StringComparison.Ordinal);
        foreach (var snapshot in new[] { first, again.GetProperty("id").GetString()! })
        {
            var target = _temp.Combine("dst-" + snapshot[..8]);
            await Cli.SucceedAsync("pull", target, "--store", _store, "--snapshot", snapshot, "--quiet");
            TestData.AssertSameTree(_source, target);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Snapshots_whose_data_is_gone_are_kept_and_reported_until_a_push_stores_the_same_bytes_again()
    {
        var old = _temp.Combine("old");
        TestData.WriteRandomFile(Path.Combine(old, "model.bin"), 1_000_000, 3);
        await Cli.PushAsync(old, _store, "r", "--step", "50");
        var oldPack = SinglePack();
        await Cli.PushAsync(_source, _store, "r", "--step", "100");
        File.Delete(oldPack);

        var repair = await Cli.RunAsync("repair", "--store", _store, "--json", "--quiet");
        var second = await Cli.RunAsync("repair", "--store", _store, "--quiet");
        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");
        var pullNewest = await Cli.RunAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--quiet");
        await Cli.PushAsync(old, _store, "r-restore", "--step", "50");
        var healed = await Cli.RunAsync("check", "--store", _store, "--read-data", "--quiet");

        Assert.True(repair.ExitCode == 0, repair.ToString());
        var result = JsonLines.Result(repair.StdOut);
        Assert.Equal(KeyOf(oldPack), Assert.Single(result.GetProperty("droppedPacks").EnumerateArray()).GetProperty("key").GetString());
        var damaged = Assert.Single(result.GetProperty("damagedSnapshots").EnumerateArray());
        Assert.Equal((1L, 50L), (damaged.GetProperty("sequence").GetInt64(), damaged.GetProperty("step").GetInt64()));
        Assert.Equal(["model.bin"], damaged.GetProperty("files").EnumerateArray().Select(f => f.GetString()));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("nothing to repair in the packs", second.StdOut, StringComparison.Ordinal);
        Assert.Contains("(run 'r', #1, step 50) lost 1 file(s)", second.StdOut, StringComparison.Ordinal);
        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains("file 'model.bin' references chunk", check.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("baton repair", check.StdOut, StringComparison.Ordinal);
        Assert.True(pullNewest.ExitCode == 0, pullNewest.ToString());
        TestData.AssertSameTree(_source, _temp.Combine("dst"));
        Assert.True(healed.ExitCode == 0, healed.ToString());
        Assert.Contains("no errors", healed.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 300_000)]
    public async Task In_an_encrypted_repository_a_deleted_and_a_damaged_pack_are_repaired_and_the_next_push_restores()
    {
        await Baton("init", "--store", _store, "--password-file", _passwordFile);
        var ids = new List<string> { await PushEncryptedAsync() };
        File.Delete(SinglePack());

        // Sealed packs get new names, so the index now names the chunks twice: in the deleted pack and in the new one.
        ids.Add(await PushEncryptedAsync());
        var pullFirst = await BatonCli.RunAsync(["pull", _temp.Combine("dst1"), "--store", _store, "--snapshot", ids[0], "--quiet", "--password-file", _passwordFile]);
        var pack = SinglePack();
        FlipBit(pack, new FileInfo(pack).Length / 2);
        var check = await BatonCli.RunAsync(["check", "--store", _store, "--read-data", "--quiet", "--password-file", _passwordFile]);
        var repair = await Baton("repair", "--store", _store, "--read-data", "--quiet", "--password-file", _passwordFile);
        ids.Add(await PushEncryptedAsync());
        var after = await BatonCli.RunAsync(["check", "--store", _store, "--read-data", "--quiet", "--password-file", _passwordFile]);

        Assert.True(pullFirst.ExitCode == 0, pullFirst.ToString());
        TestData.AssertSameTree(_source, _temp.Combine("dst1"));
        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains($"error: pack {KeyOf(pack)}", check.StdOut, StringComparison.Ordinal);
        Assert.Contains("baton repair", check.StdOut, StringComparison.Ordinal);
        Assert.Contains($"dropped pack {KeyOf(pack)} from the index", repair.StdOut, StringComparison.Ordinal);
        Assert.Contains("missing from the store", repair.StdOut, StringComparison.Ordinal);
        Assert.Contains("2 pack(s) dropped from the index", repair.StdOut, StringComparison.Ordinal);
        Assert.Contains("(run 'r', #1, step 100) lost 1 file(s): 'model.bin'", repair.StdOut, StringComparison.Ordinal);
        Assert.Contains("(run 'r', #2, step 100) lost 1 file(s): 'model.bin'", repair.StdOut, StringComparison.Ordinal);
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Contains("no errors", after.StdOut, StringComparison.Ordinal);
        foreach (var id in ids)
        {
            var target = _temp.Combine("dst-" + id[..8]);
            await Baton("pull", target, "--store", _store, "--snapshot", id, "--quiet", "--password-file", _passwordFile);
            TestData.AssertSameTree(_source, target);
        }
    }

    public void Dispose() => _temp.Dispose();

    private async Task<string> PushEncryptedAsync() =>
        (await Cli.PushAsync(_source, _store, "r", "--step", "100", "--password-file", _passwordFile)).GetProperty("id").GetString()!;

    private static async Task<CliResult> Baton(params string[] args) => await Cli.SucceedAsync(args);

    private string SinglePack() => Directory.EnumerateFiles(Path.Combine(_store, "data"), "*", SearchOption.AllDirectories)
        .OrderBy(File.GetLastWriteTimeUtc).Last();

    private List<string> IndexObjects() => [.. Directory.EnumerateFiles(Path.Combine(_store, "index"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    private string KeyOf(string path) => Path.GetRelativePath(_store, path).Replace(Path.DirectorySeparatorChar, '/');

    private static void FlipBit(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ 0x04));
    }
}
