using Amazon.Runtime;
using Baton.Storage;
using Baton.Storage.S3;
using Baton.Testing;

namespace Baton.Tests.Stage;

/// <summary>
/// The real baton process staging an s3:// folder from a real s3rver (npm) on a loopback port: a store object that
/// changed is fetched again, even when its size did not change, and one that did not change is not.
/// </summary>
public sealed class StageFromStoreTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private S3rver? _s3rver;

    private S3rver Server => _s3rver ?? throw new InvalidOperationException("s3rver is not running");

    [Fact(Timeout = 180_000)]
    public async Task A_store_object_rewritten_with_the_same_size_is_fetched_again_and_an_unchanged_one_is_not()
    {
        await using var bucket = Store("stage", "sets");
        var val = Bytes(100_000, 2);
        await bucket.PutAsync("train.bin", Bytes(300_000, 1), PutMode.Overwrite);
        await bucket.PutAsync("nested/val.bin", val, PutMode.Overwrite);
        var dest = _temp.Combine("data");

        var first = await StageAsync("s3://stage/sets", dest, "--json");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(400_000, JsonLines.Result(first.StdOut).GetProperty("bytesDownloaded").GetInt64());

        var rewritten = Bytes(300_000, 3);
        await bucket.PutAsync("train.bin", rewritten, PutMode.Overwrite);
        var second = await StageAsync("s3://stage/sets", dest, "--json");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(rewritten, await File.ReadAllBytesAsync(Path.Combine(dest, "train.bin")));
        Assert.Equal(val, await File.ReadAllBytesAsync(Path.Combine(dest, "nested", "val.bin")));
        var result = JsonLines.Result(second.StdOut);
        Assert.Equal(300_000, result.GetProperty("bytesDownloaded").GetInt64());
        Assert.Equal(1, result.GetProperty("filesFromCache").GetInt64());
        Assert.Equal(1, result.GetProperty("filesUnchanged").GetInt64());

        var third = await StageAsync("s3://stage/sets", dest);
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Contains("unchanged, nothing downloaded", third.StdErr, StringComparison.Ordinal);
        Assert.Equal(rewritten, await File.ReadAllBytesAsync(Path.Combine(dest, "train.bin")));
    }

    public async Task InitializeAsync() => _s3rver = await S3rver.StartAsync();

    public async Task DisposeAsync()
    {
        if (_s3rver is not null)
        {
            await _s3rver.DisposeAsync();
        }

        _temp.Dispose();
    }

    private S3Store Store(string bucket, string prefix) => new(new S3StoreOptions
    {
        Bucket = bucket,
        Prefix = prefix,
        Endpoint = Server.Endpoint,
        Region = "us-east-1",
        Credentials = new BasicAWSCredentials(S3rver.AccessKey, S3rver.SecretKey),
        AtomicCreate = false,
    });

    private Task<CliResult> StageAsync(params string[] args)
    {
        var environment = Server.CliEnvironment();
        environment["BATON_STAGE_CACHE"] = _temp.Combine("cache");
        return BatonCli.RunAsync(["stage", .. args], _temp.Path, environment);
    }

    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
