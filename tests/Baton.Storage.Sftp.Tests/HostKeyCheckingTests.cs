using Baton.Testing;

namespace Baton.Storage.Sftp.Tests;

public sealed class HostKeyCheckingTests(SshServer server) : IClassFixture<SshServer>, IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_host_is_refused_with_a_message_saying_how_to_accept_it()
    {
        var knownHosts = _temp.Combine("empty_known_hosts");
        await using var store = server.Store("unknown", server.Settings(knownHosts));
        var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("x"));
        Assert.Equal(StoreErrorReason.Unauthorized, error.Reason);
        Assert.Contains("not in " + knownHosts, error.Message, StringComparison.Ordinal);
        Assert.Contains("BATON_SFTP_ACCEPT_NEW_HOST_KEY=1", error.Message, StringComparison.Ordinal);
        Assert.Contains("SHA256:", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(knownHosts));
    }

    [Fact(Timeout = 60_000)]
    public async Task Accepting_a_new_host_records_its_key_for_later_strict_checks()
    {
        var knownHosts = _temp.Combine("ssh", "known_hosts");
        await using (var first = server.Store("accept", server.Settings(knownHosts, acceptNew: true)))
        {
            await first.PutAsync("k", new byte[] { 1 }, PutMode.Overwrite);
        }

        var recorded = await File.ReadAllTextAsync(knownHosts);
        Assert.StartsWith($"[127.0.0.1]:{server.Port} ", recorded, StringComparison.Ordinal);
        Assert.True(recorded.Contains(server.Ed25519HostKey, StringComparison.Ordinal) || recorded.Contains(server.EcdsaHostKey, StringComparison.Ordinal), recorded);

        await using var strict = server.Store("accept", server.Settings(knownHosts));
        Assert.Equal(1, (await strict.StatAsync("k"))?.Size);
        Assert.Single(File.ReadAllLines(knownHosts));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_changed_host_key_is_refused_even_when_new_hosts_are_accepted()
    {
        var other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFDTM1p2LaRSHi4LRQ3NxU67dNs3OhEIAk7tquPDn07l";
        var knownHosts = _temp.Combine("changed_known_hosts");
        await File.WriteAllTextAsync(knownHosts, $"[127.0.0.1]:{server.Port} {other}\n");
        await using var store = server.Store("changed", server.Settings(knownHosts, acceptNew: true));
        var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("x"));
        Assert.Equal(StoreErrorReason.Unauthorized, error.Reason);
        Assert.Contains("CHANGED", error.Message, StringComparison.Ordinal);
        Assert.Single(File.ReadAllLines(knownHosts));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_host_known_only_by_its_ecdsa_key_is_checked_against_that_key()
    {
        var knownHosts = _temp.Combine("ecdsa_known_hosts");
        await File.WriteAllTextAsync(knownHosts, $"[127.0.0.1]:{server.Port} {server.EcdsaHostKey}\n");
        await using var store = server.Store("ecdsa", server.Settings(knownHosts));
        Assert.Null(await store.StatAsync("x"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_hashed_known_hosts_entry_is_trusted()
    {
        var knownHosts = _temp.Combine("hashed_known_hosts");
        await File.WriteAllTextAsync(knownHosts, $"[127.0.0.1]:{server.Port} {server.Ed25519HostKey}\n");
        await Tools.RunAsync("ssh-keygen", "-H", "-f", knownHosts);
        Assert.StartsWith("|1|", await File.ReadAllTextAsync(knownHosts), StringComparison.Ordinal);
        await using var store = server.Store("hashed", server.Settings(knownHosts));
        Assert.Null(await store.StatAsync("x"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_key_the_server_does_not_accept_is_unauthorized()
    {
        var stranger = _temp.Combine("stranger");
        await Tools.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger);
        await using var store = server.Store("stranger", server.Settings(key: stranger));
        var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("x"));
        Assert.Equal(StoreErrorReason.Unauthorized, error.Reason);
        Assert.Contains("authentication", error.Message, StringComparison.Ordinal);
        Assert.Contains(stranger, error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_encrypted_key_needs_its_passphrase_and_the_message_never_shows_it()
    {
        var locked = _temp.Combine("locked");
        await Tools.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "correct horse", "-f", locked);
        var missing = new SftpSettings { KeyFiles = [locked], KnownHostsFile = server.KnownHosts };
        await using (var store = server.Store("locked", missing))
        {
            var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("x"));
            Assert.Equal(StoreErrorReason.Unauthorized, error.Reason);
            Assert.Contains("BATON_SFTP_KEY_PASSPHRASE", error.Message, StringComparison.Ordinal);
        }

        var wrong = new SftpSettings { KeyFiles = [locked], KeyFileGiven = true, Passphrase = "battery staple", KnownHostsFile = server.KnownHosts };
        await using (var store = server.Store("locked", wrong))
        {
            var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("x"));
            Assert.Equal(StoreErrorReason.Unauthorized, error.Reason);
            Assert.DoesNotContain("battery staple", error.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_closed_port_is_unreachable()
    {
        var address = SftpAddress.Parse(StoreUri.Parse($"sftp://{SshServer.User}@127.0.0.1:{FreePort.Next()}/x"), SshServer.User);
        await using var store = new SftpStore(address, server.Settings());
        var error = await Assert.ThrowsAsync<StoreException>(() => store.StatAsync("x"));
        Assert.Equal(StoreErrorReason.Unreachable, error.Reason);
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
