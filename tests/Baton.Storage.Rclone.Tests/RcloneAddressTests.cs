namespace Baton.Storage.Rclone.Tests;

public sealed class RcloneAddressTests
{
    [Theory]
    [InlineData("rclone:gdrive:baton/runs", "gdrive:baton/runs", "gdrive:baton/runs/k")]
    [InlineData("rclone:gdrive:baton/runs/", "gdrive:baton/runs", "gdrive:baton/runs/k")]
    [InlineData("rclone:gdrive:", "gdrive:", "gdrive:k")]
    [InlineData("rclone::local:/data/x", ":local:/data/x", ":local:/data/x/k")]
    public void Addresses_name_a_root_under_which_keys_are_paths(string text, string root, string keyPath)
    {
        var address = RcloneAddress.Parse(StoreUri.Parse(text));
        Assert.Equal(root, address.Root);
        Assert.Equal(keyPath, address.PathOf("k"));
    }

    [Theory]
    [InlineData("rclone:nocolon")]
    [InlineData("rclone::")]
    public void An_address_without_a_remote_is_a_usage_error(string text)
    {
        var error = Assert.Throws<UsageException>(() => RcloneAddress.Parse(StoreUri.Parse(text)));
        Assert.Contains("rclone:REMOTE:PATH", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connection_string_parameters_are_never_shown()
    {
        var address = RcloneAddress.Parse(StoreUri.Parse("rclone::s3,access_key_id=AKIAXAMPLE,secret_access_key=TOPSECRET:bucket/dir"));
        Assert.Equal("rclone::s3,***:bucket/dir", address.Display);
        Assert.DoesNotContain("TOPSECRET", address.Redact($"Failed to copy: {address.PathOf("key")}: denied"), StringComparison.Ordinal);
        var error = Assert.Throws<UsageException>(() => RcloneAddress.Parse(StoreUri.Parse("rclone:s3,secret_access_key=TOPSECRET")));
        Assert.DoesNotContain("TOPSECRET", error.Message, StringComparison.Ordinal);
    }
}
