namespace Baton.Storage.S3.Tests;

public sealed class S3StoreProviderTests
{
    [Fact]
    public void An_s3_address_without_an_endpoint_goes_to_aws_and_trusts_its_conditional_writes()
    {
        var options = Options("s3://my-bucket/runs/exp1", new() { ["AWS_REGION"] = "eu-west-1" });

        Assert.Equal("my-bucket", options.Bucket);
        Assert.Equal("runs/exp1", options.Prefix);
        Assert.Null(options.Endpoint);
        Assert.Equal("eu-west-1", options.Region);
        Assert.True(options.AtomicCreate);
        Assert.Equal(CreateNewCondition.IfNoneMatch, options.CreateNewCondition);
        Assert.Equal("s3://my-bucket/runs/exp1", new S3Store(options).Location);
    }

    [Fact]
    public void S3_transfers_are_bounded_so_that_pushes_and_pulls_stay_within_256_MiB()
    {
        // Each pack in flight is held whole in memory: two of them beside the packer's took a 0.8 GiB push over 256 MiB.
        var store = new S3Store(Options("s3://my-bucket/runs", new() { ["AWS_REGION"] = "eu-west-1" }));

        Assert.Equal(1, store.Capabilities.PackUploads);
        // A pull holds Concurrency chunks (plus one per core) in memory: 8 took a 0.75 GiB pull over 256 MiB.
        Assert.InRange(store.Capabilities.Concurrency, 2, 4);
    }

    [Fact]
    public void The_service_specific_endpoint_wins_over_the_general_one_and_is_not_trusted_for_atomic_create()
    {
        var options = Options("s3://my-bucket", new()
        {
            ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1111",
            ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:2222",
        });

        Assert.Equal(new Uri("http://127.0.0.1:2222"), options.Endpoint);
        Assert.Equal("", options.Prefix);
        Assert.False(options.AtomicCreate);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("no", false)]
    public void BATON_S3_ATOMIC_CREATE_states_what_the_server_enforces(string value, bool expected)
    {
        var options = Options("s3://my-bucket/p", new() { ["AWS_ENDPOINT_URL"] = "https://minio.example:9000", ["BATON_S3_ATOMIC_CREATE"] = value });
        Assert.Equal(expected, options.AtomicCreate);
    }

    [Fact]
    public void A_gs_address_goes_to_cloud_storage_with_its_own_precondition_and_hint()
    {
        var options = Options("gs://quickdraw-runs/eye", new() { ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:2222", ["AWS_REGION"] = "eu-west-1" });

        Assert.Equal(new Uri(S3StoreProvider.GoogleEndpoint), options.Endpoint);
        Assert.Equal("auto", options.Region);
        Assert.True(options.AtomicCreate);
        Assert.Equal(CreateNewCondition.GoogleGenerationMatch, options.CreateNewCondition);
        Assert.Contains("HMAC", options.CredentialsHint, StringComparison.Ordinal);
        Assert.Equal("gs://quickdraw-runs/eye", new S3Store(options).Location);
    }

    [Theory]
    [InlineData("s3:bucket/prefix")]
    [InlineData("s3://Bad_Bucket/prefix")]
    [InlineData("s3://ab/prefix")]
    [InlineData("s3://bucket/a/../b")]
    [InlineData("s3://bucket/a//b")]
    public void A_malformed_address_is_a_usage_error(string address)
    {
        Assert.Throws<UsageException>(() => Options(address, []));
    }

    [Theory]
    [InlineData("127.0.0.1:9000")]
    [InlineData("ftp://host")]
    [InlineData("https://user:secret@host")]
    public void A_malformed_endpoint_is_a_usage_error_that_does_not_echo_it(string endpoint)
    {
        var error = Assert.Throws<UsageException>(() => Options("s3://bucket", new() { ["AWS_ENDPOINT_URL_S3"] = endpoint }));
        Assert.Contains("AWS_ENDPOINT_URL_S3", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    private static S3StoreOptions Options(string address, Dictionary<string, string?> environment) =>
        new S3StoreProvider(environment.GetValueOrDefault).OptionsFor(StoreUri.Parse(address));
}
