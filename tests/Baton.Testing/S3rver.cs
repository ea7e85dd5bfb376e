using System.Globalization;

namespace Baton.Testing;

/// <summary>A real s3rver (npm) on a free loopback port, its data in a temporary folder; stopped on dispose.</summary>
public sealed class S3rver : IAsyncDisposable
{
    /// <summary>s3rver's built-in account.</summary>
    public const string AccessKey = "S3RVER";

    /// <summary>The built-in account's secret.</summary>
    public const string SecretKey = "S3RVER";

    private readonly TempDirectory _data;
    private readonly ServerProcess _server;

    private S3rver(TempDirectory data, ServerProcess server)
    {
        _data = data;
        _server = server;
    }

    /// <summary>The server's address.</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{_server.Port}");

    /// <summary>Where s3rver keeps its files (an object is <c>BUCKET/KEY._S3rver_object</c>).</summary>
    public string DataPath => _data.Path;

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    public static async Task<S3rver> StartAsync()
    {
        var data = new TempDirectory("baton-s3rver-");
        try
        {
            var port = FreePort.Next();
            _ = RepositoryRoot.NodeTool("s3rver"); // installed, or an error naming the install script
            // Through the launcher that mends s3rver 3.7.1's one crash (a put racing the delete of the last object in
            // its folder); see the script.
            var launcher = Path.Combine(RepositoryRoot.Path, "eng", "s3rver.cjs");
            var server = await ServerProcess.StartAsync("s3rver", "node",
                [launcher, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--directory", data.Path, "--silent"],
                port);
            return new S3rver(data, server);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

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
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(DataPath, "no-credentials"),
        ["AWS_CONFIG_FILE"] = Path.Combine(DataPath, "no-config"),
        ["BATON_S3_ATOMIC_CREATE"] = null,
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync().ConfigureAwait(false);
        _data.Dispose();
    }
}
