using Baton.Testing;

namespace Baton.Storage.Sftp.Tests;

/// <summary>The real command line against the real server, with keys and known hosts found the OpenSSH way in a temporary home.</summary>
public sealed class SftpCliTests(SshServer server) : IClassFixture<SshServer>, IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task Push_pull_ls_and_check_round_trip_through_sftp_with_keys_from_the_home_folder()
    {
        var home = Home(knownHosts: true);
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 3_000_000, 1);
        TestData.WriteRandomFile(Path.Combine(source, "nested", "opt.bin"), 200_000, 2);
        var store = server.Address("cli-" + Guid.NewGuid().ToString("N")[..8]);

        var push = await Baton(home, "push", source, "--store", store, "--run", "r1", "--step", "5");
        Assert.True(push.ExitCode == 0, push.ToString());
        var id = push.StdOut.Trim();

        var ls = await Baton(home, "ls", "--store", store);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.Contains(id, ls.StdOut, StringComparison.Ordinal);

        var check = await Baton(home, "check", "--store", store, "--read-data");
        Assert.True(check.ExitCode == 0, check.ToString());

        var target = _temp.Combine("dst");
        var pull = await Baton(home, "pull", target, "--store", store, "--run", "r1");
        Assert.True(pull.ExitCode == 0, pull.ToString());
        TestData.AssertSameTree(source, target);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_key_the_server_refuses_exits_3_naming_the_key()
    {
        var home = Home(knownHosts: true);
        var stranger = _temp.Combine("stranger");
        await Tools.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger);
        var result = await Baton(home, ["ls", "--store", server.Address("x")], new() { ["BATON_SFTP_KEY_FILE"] = stranger });
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("authentication", result.StdErr, StringComparison.Ordinal);
        Assert.Contains(stranger, result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", result.StdErr + result.StdOut, StringComparison.Ordinal);
        Assert.Single(result.ErrorLines);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_host_exits_3_with_how_to_accept_it_and_accepting_records_it()
    {
        var home = Home(knownHosts: false);
        var store = server.Address("firstcontact-" + Guid.NewGuid().ToString("N")[..8]);
        var refused = await Baton(home, "init", "--store", store);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("BATON_SFTP_ACCEPT_NEW_HOST_KEY=1", refused.StdErr, StringComparison.Ordinal);
        Assert.Single(refused.ErrorLines);

        var accepted = await Baton(home, ["init", "--store", store], new() { ["BATON_SFTP_ACCEPT_NEW_HOST_KEY"] = "1" });
        Assert.True(accepted.ExitCode == 0, accepted.ToString());
        Assert.Contains($"[127.0.0.1]:{server.Port}", await File.ReadAllTextAsync(Path.Combine(home, ".ssh", "known_hosts")), StringComparison.Ordinal);

        var strict = await Baton(home, "ls", "--store", store);
        Assert.True(strict.ExitCode == 0, strict.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_passphrase_never_appears_in_the_output()
    {
        var home = Home(knownHosts: true);
        var locked = _temp.Combine("locked");
        await Tools.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "right-passphrase", "-f", locked);
        var result = await Baton(home, ["ls", "--store", server.Address("x")],
            new() { ["BATON_SFTP_KEY_FILE"] = locked, ["BATON_SFTP_KEY_PASSPHRASE"] = "wrong-passphrase-123" });
        Assert.Equal(3, result.ExitCode);
        Assert.DoesNotContain("wrong-passphrase-123", result.StdErr + result.StdOut, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private string Home(bool knownHosts)
    {
        var home = _temp.Combine("home-" + Guid.NewGuid().ToString("N")[..6]);
        var ssh = Path.Combine(home, ".ssh");
        Directory.CreateDirectory(ssh);
        File.Copy(server.UserKey, Path.Combine(ssh, "id_ed25519"));
        if (knownHosts)
        {
            File.Copy(server.KnownHosts, Path.Combine(ssh, "known_hosts"));
        }

        return home;
    }

    private Task<CliResult> Baton(string home, params string[] args) => Baton(home, args, []);

    private Task<CliResult> Baton(string home, string[] args, Dictionary<string, string?> environment)
    {
        environment["HOME"] = home;
        foreach (var name in new[] { "BATON_SFTP_KEY_FILE", "BATON_SFTP_KEY_PASSPHRASE", "BATON_SFTP_KNOWN_HOSTS", "BATON_SFTP_ACCEPT_NEW_HOST_KEY", "BATON_SFTP_PASSWORD" })
        {
            environment.TryAdd(name, null);
        }

        return BatonCli.RunAsync(args, _temp.Path, environment);
    }
}
