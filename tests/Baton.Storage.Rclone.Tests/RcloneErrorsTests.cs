namespace Baton.Storage.Rclone.Tests;

public sealed class RcloneErrorsTests
{
    private static readonly RcloneAddress Address = RcloneAddress.Parse(StoreUri.Parse("rclone:gdrive:baton"));

    [Theory]
    [InlineData(1, "2024/01/02 03:04:05 Failed to create file system for \"gdrive:baton\": didn't find section in config file", StoreErrorReason.Unreachable)]
    [InlineData(3, "2024/01/02 03:04:05 Failed to cat: directory not found", StoreErrorReason.NotFound)]
    [InlineData(1, "ERROR : couldn't fetch token: invalid_grant: maybe token expired? - try refreshing with \"rclone config reconnect gdrive:\"", StoreErrorReason.Unauthorized)]
    [InlineData(1, "googleapi: Error 403: The user's Drive storage quota has been exceeded., storageQuotaExceeded", StoreErrorReason.Full)]
    [InlineData(1, "Failed to rcat: googleapi: Error 401: Invalid Credentials, authError", StoreErrorReason.Unauthorized)]
    [InlineData(1, "dial tcp: lookup www.googleapis.com: no such host", StoreErrorReason.Unreachable)]
    [InlineData(5, "Failed to cat: read: connection reset by peer", StoreErrorReason.Transient)]
    [InlineData(1, "googleapi: Error 503: Service Unavailable, backendError", StoreErrorReason.Transient)]
    [InlineData(1, "Failed to moveto: something unexpected", StoreErrorReason.Permanent)]
    public void Rclone_errors_get_the_reason_their_words_say(int exitCode, string stderr, StoreErrorReason reason)
    {
        Assert.Equal(reason, RcloneErrors.Classify(new RcloneResult(exitCode, [], stderr), Address, "k", "read").Reason);
    }

    [Fact]
    public void Digits_in_keys_are_not_taken_for_http_status_codes()
    {
        var stderr = "Failed to moveto: gdrive:baton/runs/r/snapshots/00000401 something unexpected";
        var error = RcloneErrors.Classify(new RcloneResult(1, [], stderr), Address, "runs/r/snapshots/00000401", "write");
        Assert.Equal(StoreErrorReason.Permanent, error.Reason);
    }

    [Fact]
    public void Tokens_in_error_lines_are_hidden_and_messages_are_one_line()
    {
        var stderr = "line one\n2024/01/02 03:04:05 ERROR : request failed: access_token=ya29.SECRETVALUE&x=1 refused\n";
        var error = RcloneErrors.Classify(new RcloneResult(1, [], stderr), Address, "k", "read");
        Assert.DoesNotContain("ya29.SECRETVALUE", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("2024/01/02", error.Message, StringComparison.Ordinal);
    }
}
