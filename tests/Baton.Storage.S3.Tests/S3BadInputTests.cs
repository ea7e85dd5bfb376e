using Baton.Testing;

namespace Baton.Storage.S3.Tests;

/// <summary>
/// Missing credentials, a wrong endpoint, refused credentials, denied access and a bucket that cannot be created:
/// each is one line on stderr naming the store and what to set, exit 3, and never the secret.
/// </summary>
[Collection("s3rver")]
public sealed class S3BadInputTests(S3rverFixture s3) : IDisposable
{
    private const string Secret = "wrong-secret-Zq81xT";
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task Missing_credentials_say_which_variables_to_set()
    {
        var result = await BatonCli.RunAsync(["ls", "--store", "s3://no-credentials/p"], environment: s3.CliEnvironment(accessKey: null, secretKey: null));

        AssertOneLineAccessError(result, "no credentials found for s3://no-credentials/p");
        Assert.Contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", result.StdErr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_closed_port_says_the_endpoint_cannot_be_reached()
    {
        var environment = s3.CliEnvironment(secretKey: Secret);
        environment["AWS_ENDPOINT_URL_S3"] = $"http://127.0.0.1:{FreePort.Next()}";
        var result = await BatonCli.RunAsync(["ls", "--store", "s3://closed-port/p"], environment: environment);

        AssertOneLineAccessError(result, "cannot reach s3://closed-port/p at http://127.0.0.1:");
        Assert.Contains("connection refused; check AWS_ENDPOINT_URL_S3", result.StdErr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Refused_credentials_say_what_to_check_and_never_show_the_secret()
    {
        var result = await BatonCli.RunAsync(["ls", "--store", "s3://refused/p"], environment: s3.CliEnvironment(accessKey: "UNKNOWN-KEY", secretKey: Secret));

        AssertOneLineAccessError(result, "refused the credentials (InvalidAccessKeyId)");
    }

    [Fact(Timeout = 60_000)]
    public async Task Access_denied_names_the_object_and_never_shows_the_secret()
    {
        await using var server = new MiniS3Server("denied");
        server.Intercept = _ => (403, "AccessDenied");
        var environment = s3.CliEnvironment(secretKey: Secret);
        environment["AWS_ENDPOINT_URL_S3"] = server.Endpoint.ToString();
        var result = await BatonCli.RunAsync(["ls", "--store", "s3://denied/p"], environment: environment);

        AssertOneLineAccessError(result, "access denied: read 'config' in s3://denied/p");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_bucket_that_may_not_be_created_fails_the_push_and_says_so()
    {
        await using var server = new MiniS3Server();
        server.RefuseBucketCreation = true;
        var environment = s3.CliEnvironment(secretKey: Secret);
        environment["AWS_ENDPOINT_URL_S3"] = server.Endpoint.ToString();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 1000, 1);
        var result = await BatonCli.RunAsync(["push", source, "--store", "s3://missing-bucket/p", "--run", "r", "--quiet"], environment: environment);

        AssertOneLineAccessError(result, "bucket 'missing-bucket' of s3://missing-bucket/p at http://127.0.0.1:");
        Assert.Contains("does not exist and could not be created (AccessDenied)", result.StdErr, StringComparison.Ordinal);
        Assert.False(server.HasBucket("missing-bucket"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_bucket_holds_no_repository_until_a_push_creates_it()
    {
        var store = "s3://created-by-push-" + Guid.NewGuid().ToString("N")[..8] + "/p";
        var ls = await BatonCli.RunAsync(["ls", "--store", store], environment: s3.CliEnvironment());
        Assert.Equal(2, ls.ExitCode);
        Assert.Contains($"no Baton repository at {store}", ls.StdErr, StringComparison.Ordinal);

        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 1000, 1);
        var push = await BatonCli.RunAsync(["push", source, "--store", store, "--run", "r", "--quiet"], environment: s3.CliEnvironment());
        Assert.True(push.ExitCode == 0, push.ToString());
    }

    public void Dispose() => _temp.Dispose();

    private static void AssertOneLineAccessError(CliResult result, string expected)
    {
        Assert.True(result.ExitCode == 3, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("baton: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.StdOut + result.StdErr, StringComparison.Ordinal);
    }
}
