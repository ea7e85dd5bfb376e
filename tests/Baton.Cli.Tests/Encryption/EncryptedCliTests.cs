using System.Text;
using System.Text.Json;
using Baton.Testing;

namespace Baton.Tests.Encryption;

public sealed class EncryptedCliTests : IDisposable
{
    private const string Password = "purple-otter-41 swims";
    private const string Marker = "QUOKKA-MARKER-93be";
    private readonly TempDirectory _temp = new();
    private readonly string _store;
    private readonly string _passwordFile;

    public EncryptedCliTests()
    {
        _store = _temp.Combine("store");
        _passwordFile = _temp.Combine("password.txt");
        File.WriteAllText(_passwordFile, Password + "\n");
    }

    [Fact(Timeout = 180_000)]
    public async Task An_encrypted_repository_round_trips_push_pull_ls_check_and_prune()
    {
        var init = await Baton(["init", "--store", _store, "--password-file", _passwordFile]);
        Assert.Contains("encrypted", init.StdOut, StringComparison.Ordinal);
        var source = _temp.Combine("src");
        for (var step = 1; step <= 2; step++)
        {
            TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 1_500_000, step);
            await Baton(["push", source, "--store", _store, "--run", "r", "--step", $"{step}", "--password-file", _passwordFile]);
        }

        var env = new Dictionary<string, string?> { ["BATON_PASSWORD"] = Password };
        var ls = await Baton(["ls", "--store", _store, "--json"], env);
        Assert.Equal(2, JsonDocument.Parse(ls.StdOut).RootElement.GetArrayLength());
        var target = _temp.Combine("dst");
        await Baton(["pull", target, "--store", _store, "--run", "r"], env);
        TestData.AssertSameTree(source, target);
        await Baton(["check", "--store", _store, "--read-data"], env);
        var prune = await Baton(["prune", "--store", _store, "--run", "r", "--keep-last", "1"], env);
        Assert.Contains("removed", prune.StdOut, StringComparison.Ordinal);
        var check = await Baton(["check", "--store", _store, "--read-data"], env);
        Assert.Contains("no errors: 1 snapshots", check.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task No_marker_from_contents_paths_or_the_run_name_appears_in_the_store_bytes_or_keys()
    {
        var source = _temp.Combine("src");
        Directory.CreateDirectory(Path.Combine(source, $"{Marker}-dir"));
        File.WriteAllText(Path.Combine(source, $"{Marker}-dir", $"{Marker}.txt"), string.Concat(Enumerable.Repeat(Marker + "\n", 50_000)));
        File.WriteAllText(Path.Combine(source, "tiny.txt"), Marker);
        var run = $"run-{Marker}";

        // A push into an empty store with a password creates an encrypted repository.
        await Baton(["push", source, "--store", _store, "--run", run, "--password-file", _passwordFile]);
        await Baton(["tag", $"tag-{Marker}", "--store", _store, "--run", run, "--password-file", _passwordFile]);
        var ls = await Baton(["ls", "--store", _store, "--password-file", _passwordFile]);
        Assert.Contains(run, ls.StdOut, StringComparison.Ordinal);

        AssertNoMarkerInStore();
    }

    [Fact(Timeout = 180_000)]
    public async Task A_supervised_run_seals_its_journal_and_leases_and_status_reads_them_back()
    {
        var dir = _temp.Combine($"ckpt-{Marker}");
        var run = $"run-{Marker}";
        await Baton(["run", "--store", _store, "--run", run, "--dir", dir, "--password-file", _passwordFile, "--quiet-period", "150ms",
            "--scan-interval", "300ms", "--", "dotnet", BatonCli.DllPath, "trainer", "--dir", dir, "--steps", "20", "--every", "10"]);

        var status = await Baton(["status", "--store", _store, "--run", run, "--json", "--password-file", _passwordFile]);
        using var view = JsonDocument.Parse(status.StdOut);
        Assert.Equal(1, view.RootElement.GetProperty("legs").GetArrayLength());
        Assert.Equal(20, view.RootElement.GetProperty("newestStep").GetInt64());
        var ls = await Baton(["ls", "--store", _store, "--password-file", _passwordFile]);
        Assert.Contains(run, ls.StdOut, StringComparison.Ordinal);
        var page = _temp.Combine("report.html");
        await Baton(["report", "--store", _store, "--run", run, "--output", page, "--password-file", _passwordFile]);
        Assert.Contains(run, await File.ReadAllTextAsync(page), StringComparison.Ordinal);
        AssertNoMarkerInStore();
    }

    [Fact(Timeout = 120_000)]
    public async Task Without_credentials_or_with_a_wrong_password_the_exit_code_is_3_and_no_secret_is_printed()
    {
        await Baton(["init", "--store", _store, "--password-file", _passwordFile]);

        var missing = await BatonCli.RunAsync(["ls", "--store", _store]);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("--password-file", missing.StdErr, StringComparison.Ordinal);
        Assert.Contains("BATON_PASSWORD", missing.StdErr, StringComparison.Ordinal);

        const string guess = "not-the-password";
        var wrong = await BatonCli.RunAsync(["ls", "--store", _store], environment: new Dictionary<string, string?> { ["BATON_PASSWORD"] = guess });
        Assert.Equal(3, wrong.ExitCode);
        Assert.Contains("wrong password", wrong.StdErr, StringComparison.Ordinal);
        Assert.Contains("BATON_PASSWORD", wrong.StdErr, StringComparison.Ordinal);
        Assert.Single(wrong.ErrorLines);
        Assert.DoesNotContain(guess, wrong.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, wrong.ToString(), StringComparison.Ordinal);

        var config = await BatonCli.RunAsync(["config"], _temp.Path, new Dictionary<string, string?> { ["BATON_PASSWORD"] = guess });
        Assert.Equal(0, config.ExitCode);
        Assert.DoesNotContain(guess, config.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_key_added_opens_the_repository_and_the_removed_one_no_longer_does()
    {
        await Baton(["init", "--store", _store, "--password-file", _passwordFile]);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 400_000, 7);
        await Baton(["push", source, "--store", _store, "--run", "r", "--password-file", _passwordFile]);
        var keyFile = _temp.Combine("repo.key");
        await File.WriteAllBytesAsync(keyFile, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

        await Baton(["key", "add", "--store", _store, "--password-file", _passwordFile, "--new-key-file", keyFile]);
        var list = await Baton(["key", "list", "--store", _store, "--key-file", keyFile, "--json"]);
        var keys = JsonDocument.Parse(list.StdOut).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, keys.Count);
        var old = keys.Single(k => k.GetProperty("kind").GetString() == "password").GetProperty("id").GetString()!;
        Assert.DoesNotContain("salt", list.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("master", list.StdOut, StringComparison.Ordinal);

        await Baton(["key", "remove", old, "--store", _store, "--key-file", keyFile]);
        var last = await BatonCli.RunAsync(["key", "remove", keys.Single(k => k.GetProperty("current").GetBoolean()).GetProperty("id").GetString()!, "--store", _store, "--key-file", keyFile]);
        Assert.Equal(2, last.ExitCode);

        var refused = await BatonCli.RunAsync(["ls", "--store", _store, "--password-file", _passwordFile]);
        Assert.Equal(3, refused.ExitCode);
        var target = _temp.Combine("dst");
        await Baton(["pull", target, "--store", _store, "--run", "r", "--key-file", keyFile]);
        TestData.AssertSameTree(source, target);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_flipped_bit_in_a_sealed_pack_makes_pull_and_check_exit_4()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 300_000, 8);
        await Baton(["push", source, "--store", _store, "--run", "r", "--password-file", _passwordFile]);
        var pack = Directory.EnumerateFiles(Path.Combine(_store, "data"), "*", SearchOption.AllDirectories).Single();
        var bytes = await File.ReadAllBytesAsync(pack);
        bytes[1000] ^= 0x01;
        await File.WriteAllBytesAsync(pack, bytes);

        var pull = await BatonCli.RunAsync(["pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--password-file", _passwordFile]);
        Assert.Equal(4, pull.ExitCode);
        Assert.Single(pull.ErrorLines);
        var check = await BatonCli.RunAsync(["check", "--store", _store, "--read-data", "--password-file", _passwordFile]);
        Assert.Equal(4, check.ExitCode);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_password_file_can_come_from_baton_toml()
    {
        var work = _temp.Combine("work");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "baton.toml"), $"store = \"{_store}\"\npassword_file = \"{_passwordFile}\"\n");
        await Baton(["init"], workingDirectory: work);

        var ls = await BatonCli.RunAsync(["ls"], work);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.Equal(3, (await BatonCli.RunAsync(["ls", "--store", _store])).ExitCode);
    }

    // Every object key and every byte under the folder store.
    private void AssertNoMarkerInStore()
    {
        var needle = Encoding.UTF8.GetBytes(Marker);
        var files = Directory.EnumerateFiles(_store, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.Contains("/data/", StringComparison.Ordinal));
        foreach (var file in files)
        {
            Assert.DoesNotContain(Marker, Path.GetRelativePath(_store, file), StringComparison.Ordinal);
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{file} holds the marker in plaintext");
        }
    }

    private static async Task<CliResult> Baton(string[] args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var result = await BatonCli.RunAsync(args, workingDirectory, environment);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain(Password, result.ToString(), StringComparison.Ordinal);
        return result;
    }

    public void Dispose() => _temp.Dispose();
}
