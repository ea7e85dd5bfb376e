using Baton.Testing;

namespace Baton.Storage.Rclone.Tests;

/// <summary>The real command line through the real rclone, configured the way users configure it (RCLONE_CONFIG).</summary>
public sealed class RcloneCliTests(RcloneRemote remote) : IClassFixture<RcloneRemote>, IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task Push_pull_ls_and_check_round_trip_through_rclone()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 3_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "nested", "opt.bin"), 200_000, 2);
        var store = remote.Address("cli-" + Guid.NewGuid().ToString("N")[..8]);

        var push = await Baton("push", source, "--store", store, "--run", "r1", "--step", "5");
        Assert.True(push.ExitCode == 0, push.ToString());
        var id = push.StdOut.Trim();

        var ls = await Baton("ls", "--store", store);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.Contains(id, ls.StdOut, StringComparison.Ordinal);

        var check = await Baton("check", "--store", store, "--read-data");
        Assert.True(check.ExitCode == 0, check.ToString());

        var target = _temp.Combine("dst");
        var pull = await Baton("pull", target, "--store", store, "--run", "r1");
        Assert.True(pull.ExitCode == 0, pull.ToString());
        TestData.AssertSameTree(source, target);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unconfigured_remote_exits_3_saying_to_run_rclone_config()
    {
        var result = await Baton("ls", "--store", "rclone:gdrive:baton");
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("rclone config", result.StdErr, StringComparison.Ordinal);
        Assert.Single(result.ErrorLines);
    }

    [Fact(Timeout = 60_000)]
    public async Task Connection_string_secrets_never_appear_in_the_output()
    {
        // An S3 remote pointed at a closed loopback port: the command fails, and its message must not carry the keys.
        var port = FreePort.Next();
        var store = $"rclone::s3,provider=Other,access_key_id=AKIDTEST,secret_access_key=TOPSECRET123,endpoint='http://127.0.0.1:{port}':bucket/dir";
        var result = await BatonCli.RunAsync(["ls", "--store", store], _temp.Path,
            new Dictionary<string, string?>(remote.Environment.ToDictionary(p => p.Key, p => (string?)p.Value)) { ["RCLONE_LOW_LEVEL_RETRIES"] = "1" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.DoesNotContain("TOPSECRET123", result.StdErr + result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIDTEST", result.StdErr + result.StdOut, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private Task<CliResult> Baton(params string[] args) =>
        BatonCli.RunAsync(args, _temp.Path, remote.Environment.ToDictionary(p => p.Key, p => (string?)p.Value));
}
