using Baton.Testing;

namespace Baton.Storage.Sftp.Tests;

public sealed class KnownHostsTests : IDisposable
{
    private const string KeyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFDTM1p2LaRSHi4LRQ3NxU67dNs3OhEIAk7tquPDn07l";
    private const string KeyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICp0UQUOnv0IGyQTyOEZJrEW7InqSbRDUvm07oUBwKkS";
    private readonly TempDirectory _temp = new();

    [Fact]
    public void A_plain_entry_matches_its_host_on_port_22_and_bracketed_on_other_ports()
    {
        var file = Write($"example.org {KeyA}", $"[example.org]:2222 {KeyB}");
        Assert.Equal(Blob(KeyA), Assert.Single(KnownHosts.Find([file], "example.org", 22)).KeyBlob);
        Assert.Equal(Blob(KeyB), Assert.Single(KnownHosts.Find([file], "EXAMPLE.org", 2222)).KeyBlob);
        Assert.Empty(KnownHosts.Find([file], "example.org", 2223));
        Assert.Empty(KnownHosts.Find([file], "other.org", 22));
    }

    [Fact(Timeout = 30_000)]
    public async Task Entries_hashed_by_ssh_keygen_match_their_host()
    {
        var file = Write($"[10.1.2.3]:2200 {KeyA}", $"plain.example {KeyB}");
        await Tools.RunAsync("ssh-keygen", "-H", "-f", file);
        Assert.DoesNotContain("10.1.2.3", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal(Blob(KeyA), Assert.Single(KnownHosts.Find([file], "10.1.2.3", 2200)).KeyBlob);
        Assert.Equal(Blob(KeyB), Assert.Single(KnownHosts.Find([file], "plain.example", 22)).KeyBlob);
        Assert.Empty(KnownHosts.Find([file], "10.1.2.3", 22));
    }

    [Theory]
    [InlineData("*.example.org", "db.example.org", true)]
    [InlineData("*.example.org", "example.org", false)]
    [InlineData("db?.example.org", "db1.example.org", true)]
    [InlineData("*.example.org,!secret.example.org", "secret.example.org", false)]
    [InlineData("a.org,b.org", "b.org", true)]
    public void Patterns_follow_openssh_rules(string patterns, string host, bool matches)
    {
        Assert.Equal(matches, KnownHosts.Matches(patterns, host));
    }

    [Fact]
    public void Revoked_and_certificate_authority_lines_are_told_apart()
    {
        var file = Write($"@revoked host.example {KeyA}", $"@cert-authority *.example {KeyB}", "# a comment", "", "garbage");
        var key = Assert.Single(KnownHosts.Find([file], "host.example", 22));
        Assert.True(key.Revoked);
    }

    [Fact]
    public void An_appended_entry_is_found_again_and_keeps_earlier_lines()
    {
        var file = _temp.Combine("nested", "known_hosts");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, $"other.example {KeyB}");
        KnownHosts.Append(file, "127.0.0.1", 2022, "ssh-ed25519", Blob(KeyA));
        Assert.Equal(Blob(KeyA), Assert.Single(KnownHosts.Find([file], "127.0.0.1", 2022)).KeyBlob);
        Assert.Single(KnownHosts.Find([file], "other.example", 22));
        Assert.Equal("ssh-ed25519", KnownHosts.KeyTypeOf(Blob(KeyA)));
    }

    [Fact]
    public void A_missing_file_holds_no_keys()
    {
        Assert.Empty(KnownHosts.Find([_temp.Combine("absent")], "host", 22));
    }

    public void Dispose() => _temp.Dispose();

    private static byte[] Blob(string line) => Convert.FromBase64String(line.Split(' ')[1]);

    private string Write(params string[] lines)
    {
        var file = _temp.Combine("known_hosts-" + Guid.NewGuid().ToString("N")[..6]);
        File.WriteAllLines(file, lines);
        return file;
    }
}
