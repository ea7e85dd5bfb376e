using Amazon.Runtime;
using Baton.Testing;

namespace Baton.Storage.S3.Tests;

/// <summary>One real s3rver (npm) on a free loopback port for the whole collection; its data lives in a temp folder.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    /// <summary>s3rver's built-in account.</summary>
    public const string AccessKey = S3rver.AccessKey;
    public const string SecretKey = S3rver.SecretKey;

    private S3rver? _server;

    public Uri Endpoint => Server.Endpoint;

    /// <summary>Where s3rver keeps its files (an object is <c>BUCKET/KEY._S3rver_object</c>).</summary>
    public string DataPath => Server.DataPath;

    private S3rver Server => _server ?? throw new InvalidOperationException("s3rver is not running");

    public async Task InitializeAsync() => _server = await S3rver.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Options for a store in <paramref name="bucket"/> under <paramref name="prefix"/> on this server.</summary>
    public S3StoreOptions Options(string bucket, string prefix) => new()
    {
        Bucket = bucket,
        Prefix = prefix,
        Endpoint = Endpoint,
        Region = "us-east-1",
        Credentials = new BasicAWSCredentials(AccessKey, SecretKey),
        AtomicCreate = false,
        // Below the conformance suite's interrupted payloads (24 MiB), so their multipart path is the one interrupted.
        MultipartThreshold = 16 * 1024 * 1024,
    };

    /// <summary>A store under a fresh prefix of a shared bucket.</summary>
    public S3Store CreateStore(string bucket = "conformance") => new(Options(bucket, "t-" + Guid.NewGuid().ToString("N")[..12]));

    /// <inheritdoc cref="S3rver.CliEnvironment"/>
    public Dictionary<string, string?> CliEnvironment(string? accessKey = AccessKey, string? secretKey = SecretKey) => Server.CliEnvironment(accessKey, secretKey);
}

[CollectionDefinition("s3rver")]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>;
