using Amazon.Runtime;
using Baton.Testing;

namespace Baton.Storage.S3.Tests;

/// <summary>One real s3rver (npm) on a free loopback port for the whole collection; its data lives in a temp folder.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    /// <summary>s3rver's built-in account.</summary>
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly TempDirectory _data = new("baton-s3rver-");
    private ServerProcess? _server;

    public Uri Endpoint => new($"http://127.0.0.1:{Server.Port}");

    public ServerProcess Server => _server ?? throw new InvalidOperationException("s3rver is not running");

    /// <summary>Where s3rver keeps its files (an object is <c>BUCKET/KEY._S3rver_object</c>).</summary>
    public string DataPath => _data.Path;

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        _server = await ServerProcess.StartAsync("s3rver", RepositoryRoot.NodeTool("s3rver"),
            ["--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--directory", _data.Path, "--silent"],
            port);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _data.Dispose();
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
    };

    /// <summary>A store under a fresh prefix of a shared bucket.</summary>
    public S3Store CreateStore(string bucket = "conformance") => new(Options(bucket, "t-" + Guid.NewGuid().ToString("N")[..12]));

    /// <summary>
    /// The environment for a baton process that talks to this server. It never reaches past loopback: instance metadata
    /// is off, and no shared config or credentials file is read.
    /// </summary>
    public Dictionary<string, string?> CliEnvironment(string? accessKey = AccessKey, string? secretKey = SecretKey) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = accessKey,
        ["AWS_SECRET_ACCESS_KEY"] = secretKey,
        ["AWS_SESSION_TOKEN"] = null,
        ["AWS_PROFILE"] = null,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_ENDPOINT_URL_S3"] = Endpoint.ToString(),
        ["AWS_ENDPOINT_URL"] = null,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(_data.Path, "no-credentials"),
        ["AWS_CONFIG_FILE"] = Path.Combine(_data.Path, "no-config"),
        ["BATON_S3_ATOMIC_CREATE"] = null,
    };
}

[CollectionDefinition("s3rver")]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>;
