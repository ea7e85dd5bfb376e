using System.Text.Json;
using Baton.Testing;

namespace Baton.Tests.Configuration;

public sealed class ConfigFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Flags_win_over_the_environment_which_wins_over_baton_toml()
    {
        var work = _temp.Combine("work");
        TestData.WriteRandomFile(Path.Combine(work, "ckpt", "w.bin"), 10_000, 1);
        File.WriteAllText(Path.Combine(work, "baton.toml"), "store = \"from-file\"\nrun = \"file-run\"\n");

        Assert.Equal(0, (await BatonCli.RunAsync(["push", "ckpt"], work)).ExitCode);
        Assert.Equal(0, (await BatonCli.RunAsync(["push", "ckpt"], work, new Dictionary<string, string?> { ["BATON_STORE"] = "from-env" })).ExitCode);
        Assert.Equal(0, (await BatonCli.RunAsync(["push", "ckpt", "--store", "from-flag", "--run", "flag-run"], work,
            new Dictionary<string, string?> { ["BATON_STORE"] = "from-env" })).ExitCode);

        Assert.Equal(1, await CountAsync(work, "from-file", "file-run"));
        Assert.Equal(1, await CountAsync(work, "from-env", "file-run"));
        Assert.Equal(1, await CountAsync(work, "from-flag", "flag-run"));
        Assert.Equal(0, await CountAsync(work, "from-flag", "file-run"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_misspelt_key_is_a_usage_error_naming_it()
    {
        var work = _temp.Combine("typo");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "baton.toml"), "stor = \"x\"\n");

        var result = await BatonCli.RunAsync(["ls"], work);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown key 'stor'", result.StdErr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Config_shows_where_each_setting_comes_from_and_hides_secrets()
    {
        var work = _temp.Combine("show");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "baton.toml"), "store = \"sftp://me:hunter2@host/runs\"\nrun = \"r\"\n[keep]\nlast = 3\n");

        var result = await BatonCli.RunAsync(["config"], work, new Dictionary<string, string?> { ["BATON_PASSWORD"] = "correct horse" });

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("hunter2", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("sftp://me:***@host/runs", result.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"keep\s+last 3\s+baton\.toml", result.StdOut);
        Assert.Matches(@"password\s+\(set, hidden\)\s+BATON_PASSWORD", result.StdOut);
    }

    [Fact(Timeout = 120_000)]
    public async Task Prune_takes_its_policy_from_baton_toml_when_no_flag_is_given()
    {
        var work = _temp.Combine("prune");
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(work).FullName, "baton.toml"), "store = \"st\"\nrun = \"r\"\n[keep]\nlast = 2\n");
        for (var i = 0; i < 4; i++)
        {
            TestData.WriteRandomFile(Path.Combine(work, "ckpt", "w.bin"), 10_000, i);
            Assert.Equal(0, (await BatonCli.RunAsync(["push", "ckpt", "--step", $"{i}"], work)).ExitCode);
        }

        var prune = await BatonCli.RunAsync(["prune"], work);

        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Contains("policy: last 2", prune.StdOut, StringComparison.Ordinal);
        var ls = JsonDocument.Parse((await BatonCli.RunAsync(["ls", "--json"], work)).StdOut);
        Assert.Equal([2L, 3L], ls.RootElement.EnumerateArray().Select(e => e.GetProperty("step").GetInt64()));
    }

    private static async Task<int> CountAsync(string work, string store, string run)
    {
        var ls = await BatonCli.RunAsync(["ls", "--json", "--store", store, "--run", run], work);
        return JsonDocument.Parse(ls.StdOut).RootElement.GetArrayLength();
    }

    public void Dispose() => _temp.Dispose();
}
