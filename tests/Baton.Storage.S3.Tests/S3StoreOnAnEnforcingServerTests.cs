using System.Text;
using Amazon.Runtime;
using Baton.Storage.Decorators;
using Baton.Testing;

namespace Baton.Storage.S3.Tests;

/// <summary>
/// The conformance suite against a server that enforces conditional writes (s3rver does not), with the store
/// trusting it (<see cref="S3StoreOptions.AtomicCreate"/>): the racing-writers test then really races.
/// </summary>
public sealed class S3StoreOnAnEnforcingServerConformanceTests : ObjectStoreConformance, IAsyncLifetime
{
    private readonly MiniS3Server _server = new("conformance");

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult<IObjectStore>(new S3Store(S3StoreOnAnEnforcingServerTests.Options(_server, "conformance") with
        {
            Prefix = "t-" + Guid.NewGuid().ToString("N")[..8],
        }));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();
}

public sealed class S3StoreOnAnEnforcingServerTests : IAsyncLifetime
{
    private const string Secret = "test-secret-Hq7vK2";
    private readonly MiniS3Server _server = new("bucket");

    public static S3StoreOptions Options(MiniS3Server server, string bucket) => new()
    {
        Bucket = bucket,
        Prefix = "runs",
        Endpoint = server.Endpoint,
        Region = "us-east-1",
        Credentials = new BasicAWSCredentials("test-key", Secret),
        AtomicCreate = true,
    };

    [Fact(Timeout = 30_000)]
    public async Task Create_new_sends_if_none_match_and_the_server_refuses_the_second_write_without_a_prior_check()
    {
        await using var store = new S3Store(Options(_server, "bucket"));
        await store.PutAsync("manifest", "first"u8.ToArray(), PutMode.CreateNew);
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("manifest", "second"u8.ToArray(), PutMode.CreateNew));

        Assert.Equal(StoreErrorReason.AlreadyExists, error.Reason);
        Assert.Equal("first", Encoding.UTF8.GetString(await store.ReadAllAsync("manifest")));
        var puts = _server.Seen.Where(r => r.Method == "PUT").ToList();
        Assert.Equal(2, puts.Count);
        Assert.All(puts, p => Assert.Equal("*", p.Headers.GetValueOrDefault("if-none-match")));
        Assert.DoesNotContain(_server.Seen, r => r.Method == "HEAD");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_gs_store_sends_the_generation_precondition_that_cloud_storage_honours()
    {
        await using var store = new S3Store(Options(_server, "bucket") with { Scheme = "gs", CreateNewCondition = CreateNewCondition.GoogleGenerationMatch });
        await store.PutAsync("manifest", "first"u8.ToArray(), PutMode.CreateNew);
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("manifest", "second"u8.ToArray(), PutMode.CreateNew));

        Assert.Equal(StoreErrorReason.AlreadyExists, error.Reason);
        Assert.StartsWith("gs://bucket/runs", store.Location, StringComparison.Ordinal);
        var put = _server.Seen.First(r => r.Method == "PUT");
        Assert.Equal("0", put.Headers.GetValueOrDefault("x-goog-if-generation-match"));
        Assert.False(put.Headers.ContainsKey("if-none-match"));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_overwrite_sends_plain_bytes_without_a_condition_or_chunk_signatures()
    {
        await using var store = new S3Store(Options(_server, "bucket"));
        var data = Encoding.UTF8.GetBytes(new string('x', 70_000));
        await store.PutAsync("pack", data, PutMode.Overwrite);

        var put = Assert.Single(_server.Seen, r => r.Method == "PUT");
        Assert.Equal("/bucket/runs/pack", put.Path);
        Assert.Equal(data, put.Body);
        Assert.False(put.Headers.ContainsKey("if-none-match"));
        Assert.DoesNotContain("STREAMING", put.Headers.GetValueOrDefault("x-amz-content-sha256") ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain("aws-chunked", put.Headers.GetValueOrDefault("content-encoding") ?? "", StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pack_sized_object_goes_up_in_parallel_parts_by_default()
    {
        await using var store = new S3Store(Options(_server, "bucket"));
        var data = new byte[33 * 1024 * 1024];
        new Random(5).NextBytes(data);
        await store.PutAsync("data/pack", data, PutMode.Overwrite);

        // Several connections for one pack: 8 MiB parts, the last one short.
        var parts = _server.Seen.Where(r => r.Method == "PUT" && r.Path.EndsWith("/data/pack", StringComparison.Ordinal) && r.Query.Contains("partNumber", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, parts.Count);
        Assert.Equal(data.Length, parts.Sum(p => p.Body.Length));
        var back = await store.ReadAllAsync("data/pack");
        Assert.True(data.AsSpan().SequenceEqual(back));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_large_object_goes_up_in_parts_in_parallel_and_appears_only_when_complete()
    {
        await using var store = new S3Store(Options(_server, "bucket") with { PartSize = 5 * 1024 * 1024, MultipartThreshold = 6 * 1024 * 1024 });
        var data = new byte[17 * 1024 * 1024];
        new Random(4).NextBytes(data);
        await store.PutAsync("pack", data, PutMode.Overwrite);

        var parts = _server.Seen.Where(r => r.Method == "PUT" && r.Query.Contains("partNumber", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, parts.Count);
        Assert.Equal(17 * 1024 * 1024, parts.Sum(p => p.Body.Length));
        var back = await store.ReadAllAsync("pack");
        Assert.True(data.AsSpan().SequenceEqual(back));
        Assert.Equal(0, _server.OpenUploads);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_multipart_upload_with_a_failed_part_is_aborted_and_leaves_no_object()
    {
        _server.Intercept = r => r.Method == "PUT" && r.Query.Contains("partNumber=3", StringComparison.Ordinal) ? (500, "InternalError") : null;
        await using var store = new S3Store(Options(_server, "bucket") with { PartSize = 5 * 1024 * 1024, MultipartThreshold = 6 * 1024 * 1024 });
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("pack", new byte[17 * 1024 * 1024], PutMode.Overwrite));

        Assert.Equal(StoreErrorReason.Transient, error.Reason);
        Assert.Null(await store.StatAsync("pack"));
        Assert.Equal(0, _server.OpenUploads);
        Assert.Contains(_server.Seen, r => r.Method == "DELETE" && r.Query.Contains("uploadId", StringComparison.Ordinal));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(503, "SlowDown", StoreErrorReason.Transient)]
    [InlineData(500, "InternalError", StoreErrorReason.Transient)]
    [InlineData(429, "TooManyRequests", StoreErrorReason.Transient)]
    [InlineData(403, "AccessDenied", StoreErrorReason.Unauthorized)]
    [InlineData(403, "SignatureDoesNotMatch", StoreErrorReason.Unauthorized)]
    [InlineData(403, "QuotaExceeded", StoreErrorReason.Full)]
    [InlineData(400, "InvalidArgument", StoreErrorReason.Permanent)]
    public async Task Server_errors_are_classified_and_told_in_one_line_without_secrets(int status, string code, StoreErrorReason reason)
    {
        _server.Intercept = _ => (status, code);
        await using var store = new S3Store(Options(_server, "bucket"));
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("pack", new byte[10], PutMode.Overwrite));

        Assert.Equal(reason, error.Reason);
        Assert.Contains("s3://bucket/runs", error.Message, StringComparison.Ordinal);
        Assert.Contains(code, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        if (reason == StoreErrorReason.Unauthorized)
        {
            Assert.Contains("AWS_ACCESS_KEY_ID", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Throttling_is_retried_with_backoff_until_the_write_goes_through()
    {
        var refusals = 0;
        _server.Intercept = r => r.Method == "PUT" && Interlocked.Increment(ref refusals) <= 2 ? (503, "SlowDown") : null;
        await using var store = StoreStack.Wrap(new S3Store(Options(_server, "bucket")), new StoreStackOptions { Retry = StoreFaultScenarios.FastRetries(5) });
        await store.PutAsync("pack", new byte[] { 1, 2, 3 }, PutMode.Overwrite);

        Assert.Equal(3, _server.Seen.Count(r => r.Method == "PUT"));
        Assert.Equal(new byte[] { 1, 2, 3 }, await store.ReadAllAsync("pack"));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_bucket_reads_as_empty_and_is_created_by_the_first_write()
    {
        await using var store = new S3Store(Options(_server, "fresh-bucket"));
        Assert.Empty(await store.ListAllAsync(""));
        Assert.Null(await store.StatAsync("config"));
        Assert.Equal(StoreErrorReason.NotFound, (await Assert.ThrowsAsync<StoreException>(() => store.ReadAllAsync("config"))).Reason);

        await store.PutAsync("config", new byte[] { 7 }, PutMode.CreateNew);
        Assert.True(_server.HasBucket("fresh-bucket"));
        Assert.Equal(new byte[] { 7 }, await store.ReadAllAsync("config"));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_bucket_that_may_not_be_created_is_an_access_error_saying_so()
    {
        _server.RefuseBucketCreation = true;
        await using var store = new S3Store(Options(_server, "fresh-bucket"));
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("config", new byte[] { 7 }, PutMode.CreateNew));

        Assert.Equal(StoreErrorReason.Unauthorized, error.Reason);
        Assert.Contains("bucket 'fresh-bucket' of s3://fresh-bucket/runs", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist and could not be created", error.Message, StringComparison.Ordinal);
        Assert.Contains("AccessDenied", error.Message, StringComparison.Ordinal);
        Assert.False(_server.HasBucket("fresh-bucket"));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_probe_finds_create_if_absent_enforced_on_a_server_that_honours_it()
    {
        await using var store = new S3Store(Options(_server, "bucket"));
        var verdicts = new List<ProbeVerdict>();
        await foreach (var verdict in new StoreProbe(store, new StoreProbeOptions { ThroughputBytes = 1 << 20 }).RunAsync())
        {
            verdicts.Add(verdict);
        }

        Assert.DoesNotContain(verdicts, v => v.Outcome == ProbeOutcome.Failed);
        Assert.Equal(ProbeOutcome.Ok, verdicts.Single(v => v.Check == "create-if-absent").Outcome);
        Assert.Empty(await store.ListAllAsync(""));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();
}
