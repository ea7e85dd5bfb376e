namespace Baton.Storage.Sftp.Tests;

public sealed class SftpAddressTests
{
    [Theory]
    [InlineData("sftp://alice@example.org/data/runs", "alice", "example.org", 22, "/data/runs")]
    [InlineData("sftp://alice@example.org:2222/data/runs/", "alice", "example.org", 2222, "/data/runs")]
    [InlineData("sftp://example.org/srv", "me", "example.org", 22, "/srv")]
    [InlineData("sftp://bob@[::1]:2200/x", "bob", "::1", 2200, "/x")]
    [InlineData("sftp://bob@host/~/backups", "bob", "host", 22, "backups")]
    [InlineData("sftp://bob@host/~", "bob", "host", 22, "")]
    [InlineData("sftp://bob@host/", "bob", "host", 22, "/")]
    [InlineData("sftp://bob@host/with%20space", "bob", "host", 22, "/with space")]
    public void Addresses_parse_into_user_host_port_and_path(string text, string user, string host, int port, string path)
    {
        Assert.Equal(new SftpAddress(user, host, port, path), SftpAddress.Parse(StoreUri.Parse(text), "me"));
    }

    [Theory]
    [InlineData("sftp:host/path")]
    [InlineData("sftp://@host/path")]
    [InlineData("sftp://user@host:notaport/path")]
    [InlineData("sftp://user@host:70000/path")]
    public void Malformed_addresses_are_usage_errors(string text)
    {
        var error = Assert.Throws<UsageException>(() => SftpAddress.Parse(StoreUri.Parse(text), "me"));
        Assert.Contains("sftp://", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_in_the_address_is_refused_without_repeating_it()
    {
        var error = Assert.Throws<UsageException>(() => SftpAddress.Parse(StoreUri.Parse("sftp://alice:hunter2@host/x"), "me"));
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
        Assert.Contains("BATON_SFTP_PASSWORD", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_display_form_names_user_host_port_and_path()
    {
        Assert.Equal("sftp://alice@host:2222/data", SftpAddress.Parse(StoreUri.Parse("sftp://alice@host:2222/data"), "me").Display);
        Assert.Equal("sftp://alice@host/data", SftpAddress.Parse(StoreUri.Parse("sftp://alice@host:22/data"), "me").Display);
    }
}
