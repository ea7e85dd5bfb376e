using Baton.Testing;

namespace Baton.Storage.Rclone.Tests;

/// <summary>
/// The real rclone program with an S3 remote named <c>batons3</c>, set up only through <c>RCLONE_CONFIG_*</c>
/// variables, pointed at a real s3rver on loopback whose bucket already exists (as a user's bucket does).
/// </summary>
public sealed class RcloneS3Remote : IAsyncLifetime
{
    public const string RemoteName = "batons3";
    public const string Bucket = "rclone";

    private readonly RcloneRemote _rclone = new();
    private S3rver? _server;

    public string Program => _rclone.Program;

    public S3rver Server => _server ?? throw new InvalidOperationException("s3rver is not running");

    /// <summary>
    /// What every rclone process of these tests gets: no config file, the remote from variables, and no CA bundle
    /// (rclone 1.60 refuses one on a plain-HTTP endpoint).
    /// </summary>
    public Dictionary<string, string> Environment => new()
    {
        ["RCLONE_CONFIG"] = _rclone.Folder.Combine("absent.conf"),
        ["RCLONE_CONFIG_BATONS3_TYPE"] = "s3",
        ["RCLONE_CONFIG_BATONS3_PROVIDER"] = "Other",
        ["RCLONE_CONFIG_BATONS3_ENDPOINT"] = Server.Endpoint.ToString(),
        ["RCLONE_CONFIG_BATONS3_ACCESS_KEY_ID"] = S3rver.AccessKey,
        ["RCLONE_CONFIG_BATONS3_SECRET_ACCESS_KEY"] = S3rver.SecretKey,
        ["RCLONE_CONFIG_BATONS3_REGION"] = "us-east-1",
        ["AWS_CA_BUNDLE"] = "",
    };

    public async Task InitializeAsync()
    {
        _server = await S3rver.StartAsync();
        await using var store = Store("setup");
        await store.PutAsync("bucket-exists", new byte[] { 1 }, PutMode.Overwrite);
    }

    /// <summary>A store under <paramref name="folder"/> of the existing bucket, run through <paramref name="program"/>.</summary>
    public RcloneStore Store(string folder, string? program = null) =>
        new(RcloneAddress.Parse(StoreUri.Parse($"rclone:{RemoteName}:{Bucket}/{folder}")),
            new RcloneSettings { Program = program ?? Program, Environment = Environment });

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _rclone.Dispose();
    }
}
