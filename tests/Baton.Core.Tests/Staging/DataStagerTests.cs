using System.Runtime.CompilerServices;
using Baton.Staging;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Staging;

public sealed class DataStagerTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private readonly HttpTestServer _server = new();

    private string Cache => _temp.Combine("cache");

    [Fact(Timeout = 60_000)]
    public async Task A_file_stages_from_http_and_an_unchanged_source_is_not_downloaded_again()
    {
        var data = TestBytes(1_000_000, 1);
        _server.Serve("/data/eye.npz", data);
        var dest = _temp.Combine("out", "eye.npz");

        var first = await DataStager.StageAsync(_server.Url("/data/eye.npz"), dest, Options());
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
        Assert.Equal(data.Length, first.BytesDownloaded);
        Assert.Equal(0, first.FilesFromCache);

        _server.ClearRequests();
        var second = await DataStager.StageAsync(_server.Url("/data/eye.npz"), dest, Options());
        Assert.Equal(0, second.BytesDownloaded);
        Assert.Equal(1, second.FilesFromCache);
        Assert.Equal(1, second.FilesUnchanged);
        Assert.DoesNotContain(_server.Requests, r => r.Method == "GET");
        Assert.Contains(_server.Requests, r => r.Method == "HEAD");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_deleted_destination_is_restored_from_the_cache_without_the_network()
    {
        var data = TestBytes(300_000, 2);
        _server.Serve("/f.bin", data);
        var dest = _temp.Combine("f.bin");
        await DataStager.StageAsync(_server.Url("/f.bin"), dest, Options());
        File.Delete(dest);

        _server.ClearRequests();
        var again = await DataStager.StageAsync(_server.Url("/f.bin"), dest, Options());
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
        Assert.Equal(0, again.BytesDownloaded);
        Assert.Equal(0, again.FilesUnchanged);
        Assert.DoesNotContain(_server.Requests, r => r.Method == "GET");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_changed_source_is_downloaded_again()
    {
        var file = _server.Serve("/f.bin", TestBytes(200_000, 3));
        var dest = _temp.Combine("f.bin");
        await DataStager.StageAsync(_server.Url("/f.bin"), dest, Options());

        file.Content = TestBytes(200_000, 4);
        file.ETag = "\"v2\"";
        file.LastModified = file.LastModified.AddHours(1);
        var second = await DataStager.StageAsync(_server.Url("/f.bin"), dest, Options());
        Assert.Equal(200_000, second.BytesDownloaded);
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(dest));
    }

    [Fact(Timeout = 60_000)]
    public async Task Two_stages_of_one_source_at_once_download_it_once()
    {
        var data = TestBytes(1_500_000, 23);
        _server.Serve("/shared.bin", data);
        _server.ChunkDelay = TimeSpan.FromMilliseconds(5);
        var both = await Task.WhenAll(
            DataStager.StageAsync(_server.Url("/shared.bin"), _temp.Combine("one.bin"), Options()),
            DataStager.StageAsync(_server.Url("/shared.bin"), _temp.Combine("two.bin"), Options()));
        Assert.Equal(data, await File.ReadAllBytesAsync(_temp.Combine("one.bin")));
        Assert.Equal(data, await File.ReadAllBytesAsync(_temp.Combine("two.bin")));
        Assert.Single(_server.Requests, r => r.Method == "GET");
        Assert.Equal(data.Length, both.Sum(r => r.BytesDownloaded));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_dropped_connection_resumes_with_a_range_request()
    {
        var data = TestBytes(2_000_000, 5);
        _server.Serve("/big.bin", data);
        _server.DropConnections(1, afterBytes: 700_000);
        var dest = _temp.Combine("big.bin");

        await DataStager.StageAsync(_server.Url("/big.bin"), dest, Options());
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
        var gets = _server.Requests.Where(r => r.Method == "GET").ToList();
        Assert.Equal(2, gets.Count);
        Assert.Equal(700_000, gets.Min(r => r.BodyBytes));
        Assert.Contains(gets, r => r.Range is { } range && range.StartsWith("bytes=700000-", StringComparison.Ordinal));
        Assert.Equal(data.Length, gets.Sum(r => r.BodyBytes));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_interrupted_stage_resumes_where_it_stopped_in_the_next_run()
    {
        var data = TestBytes(3_000_000, 6);
        _server.Serve("/slow.bin", data);
        _server.ChunkDelay = TimeSpan.FromMilliseconds(20);
        var dest = _temp.Combine("slow.bin");
        using var stop = new CancellationTokenSource();
        var options = Options(progress: new StopAfter(1_000_000, stop));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DataStager.StageAsync(_server.Url("/slow.bin"), dest, options, stop.Token));
        Assert.False(File.Exists(dest));

        _server.ChunkDelay = TimeSpan.Zero;
        _server.ClearRequests();
        var resumed = await DataStager.StageAsync(_server.Url("/slow.bin"), dest, Options());
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
        var get = Assert.Single(_server.Requests, r => r.Method == "GET");
        Assert.NotNull(get.Range);
        Assert.True(get.BodyBytes < data.Length - 900_000, $"resumed download sent {get.BodyBytes} bytes");
        Assert.True(resumed.BytesDownloaded < data.Length);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_large_file_downloads_in_parallel_ranges()
    {
        var data = TestBytes(5_000_000, 7);
        _server.Serve("/large.bin", data).GoogHash = true;
        var dest = _temp.Combine("large.bin");

        await DataStager.StageAsync(_server.Url("/large.bin"), dest, Options(threshold: 1_000_000, part: 1_000_000));
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
        var ranges = _server.Requests.Where(r => r.Method == "GET").Select(r => r.Range).ToList();
        Assert.Equal(5, ranges.Count);
        Assert.Equal(5, ranges.Distinct().Count());
        Assert.Contains("bytes=4000000-4999999", ranges);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_corrupt_body_is_caught_by_content_md5_and_the_next_stage_starts_clean()
    {
        var data = TestBytes(400_000, 8);
        _server.Serve("/c.bin", data).ContentMd5 = true;
        _server.CorruptBodies(1);
        var dest = _temp.Combine("c.bin");

        var error = await Assert.ThrowsAsync<IntegrityException>(() => DataStager.StageAsync(_server.Url("/c.bin"), dest, Options()));
        Assert.Contains("MD5", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dest));

        await DataStager.StageAsync(_server.Url("/c.bin"), dest, Options());
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_corrupt_range_is_caught_by_the_x_goog_hash_checksums()
    {
        var data = TestBytes(3_000_000, 9);
        _server.Serve("/g.bin", data).GoogHash = true;
        _server.CorruptBodies(1);
        await Assert.ThrowsAsync<IntegrityException>(() => DataStager.StageAsync(_server.Url("/g.bin"), _temp.Combine("g.bin"), Options(threshold: 1_000_000, part: 1_000_000)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_published_checksums_a_corrupt_repeat_download_is_caught_by_the_first_downloads_hash()
    {
        var data = TestBytes(250_000, 10);
        _server.Serve("/plain.bin", data);
        await DataStager.StageAsync(_server.Url("/plain.bin"), _temp.Combine("a.bin"), Options());
        foreach (var cached in Directory.EnumerateFiles(Path.Combine(Cache, "objects"), "*", SearchOption.AllDirectories))
        {
            File.Delete(cached);
        }

        _server.CorruptBodies(1);
        var error = await Assert.ThrowsAsync<IntegrityException>(() => DataStager.StageAsync(_server.Url("/plain.bin"), _temp.Combine("b.bin"), Options()));
        Assert.Contains("first download", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Known_content_at_a_new_address_is_not_downloaded_again()
    {
        var data = TestBytes(600_000, 11);
        _server.Serve("/mirror-a/x.bin", data).GoogHash = true;
        _server.Serve("/mirror-b/x.bin", data).GoogHash = true;
        await DataStager.StageAsync(_server.Url("/mirror-a/x.bin"), _temp.Combine("a.bin"), Options());

        _server.ClearRequests();
        var second = await DataStager.StageAsync(_server.Url("/mirror-b/x.bin"), _temp.Combine("b.bin"), Options());
        Assert.Equal(0, second.BytesDownloaded);
        Assert.DoesNotContain(_server.Requests, r => r.Method == "GET");
        Assert.Equal(data, await File.ReadAllBytesAsync(_temp.Combine("b.bin")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_server_that_refuses_head_is_probed_with_a_one_byte_range()
    {
        var data = TestBytes(100_000, 12);
        _server.Serve("/signed.bin", data);
        _server.RefuseHead = true;
        var dest = _temp.Combine("signed.bin");
        await DataStager.StageAsync(_server.Url("/signed.bin?X-Goog-Signature=abc123"), dest, Options());
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
        Assert.Contains(_server.Requests, r => r.Method == "GET" && r.Range == "bytes=0-0");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_server_without_ranges_still_delivers_after_a_drop_by_starting_over()
    {
        var data = TestBytes(900_000, 13);
        _server.Serve("/norange.bin", data);
        _server.IgnoreRanges = true;
        _server.DropConnections(1, afterBytes: 300_000);
        var dest = _temp.Combine("norange.bin");
        await DataStager.StageAsync(_server.Url("/norange.bin"), dest, Options());
        Assert.Equal(data, await File.ReadAllBytesAsync(dest));
    }

    [Fact(Timeout = 60_000)]
    public async Task Server_errors_are_retried_and_access_errors_are_not()
    {
        _server.Serve("/flaky.bin", TestBytes(1000, 14));
        _server.Fail(2, 503);
        await DataStager.StageAsync(_server.Url("/flaky.bin"), _temp.Combine("flaky.bin"), Options());

        // A 403 to HEAD alone may be a URL signed for GET only: both must refuse.
        _server.Fail(2, 403);
        var denied = await Assert.ThrowsAsync<StoreException>(() => DataStager.StageAsync(_server.Url("/flaky.bin"), _temp.Combine("x.bin"), Options(refresh: true)));
        Assert.Equal(StoreErrorReason.Unauthorized, denied.Reason);

        await Assert.ThrowsAsync<UsageException>(() => DataStager.StageAsync(_server.Url("/missing.bin"), _temp.Combine("m.bin"), Options()));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_closed_port_is_unreachable()
    {
        var error = await Assert.ThrowsAsync<StoreException>(() => DataStager.StageAsync($"http://127.0.0.1:{FreePort.Next()}/x", _temp.Combine("x"), Options()));
        Assert.Equal(StoreErrorReason.Unreachable, error.Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task Public_gs_objects_and_folders_are_read_over_https_without_credentials()
    {
        var eye = TestBytes(150_000, 15);
        var cat = TestBytes(90_000, 16);
        _server.Serve("/quickdraw_dataset/sketchrnn/eye.npz", eye).GoogHash = true;
        _server.Serve("/quickdraw_dataset/sketchrnn/cat.npz", cat).GoogHash = true;
        _server.Serve("/quickdraw_dataset/other/dog.npz", TestBytes(10, 17));
        var options = Options(gcs: new Uri(_server.BaseUrl));

        var single = await DataStager.StageAsync("gs://quickdraw_dataset/sketchrnn/eye.npz", _temp.Path + "/", options);
        Assert.Equal(_temp.Combine("eye.npz"), single.Destination);
        Assert.Equal(eye, await File.ReadAllBytesAsync(_temp.Combine("eye.npz")));

        var folder = await DataStager.StageAsync("gs://quickdraw_dataset/sketchrnn/", _temp.Combine("sketchrnn"), options);
        Assert.Equal(2, folder.Files);
        Assert.Equal(cat, await File.ReadAllBytesAsync(_temp.Combine("sketchrnn", "cat.npz")));
        Assert.Equal(1, folder.FilesFromCache);
        Assert.False(File.Exists(_temp.Combine("sketchrnn", "dog.npz")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Store_sources_stage_one_object_or_a_whole_folder()
    {
        var root = _temp.Combine("remote");
        TestData.WriteRandomFile(Path.Combine(root, "bucket", "sets", "train.bin"), 700_000, 18);
        TestData.WriteRandomFile(Path.Combine(root, "bucket", "sets", "nested", "val.bin"), 50_000, 19);
        var options = Options(stores: new StoreRegistry().Register(new TestStoreProvider(root)));

        var one = await DataStager.StageAsync("teststore://bucket/sets/train.bin", _temp.Combine("train.bin"), options);
        Assert.Equal(1, one.Files);
        Assert.True(TestData.FilesEqual(Path.Combine(root, "bucket", "sets", "train.bin"), _temp.Combine("train.bin")));

        var all = await DataStager.StageAsync("teststore://bucket/sets", _temp.Combine("sets"), options);
        Assert.Equal(2, all.Files);
        Assert.Equal(1, all.FilesFromCache);
        TestData.AssertSameTree(Path.Combine(root, "bucket", "sets"), _temp.Combine("sets"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_object_rewritten_with_the_same_size_is_downloaded_again_and_replaces_the_copy()
    {
        Directory.CreateDirectory(_temp.Combine("remote"));
        var bucket = new FolderStore(_temp.Combine("remote", "bucket"));
        await bucket.PutAsync("sets/a.bin", TestBytes(200_000, 24), PutMode.Overwrite);
        await bucket.PutAsync("sets/b.bin", TestBytes(100_000, 25), PutMode.Overwrite);
        var options = Options(stores: new StoreRegistry().Register(new TestStoreProvider(_temp.Combine("remote"))));
        await DataStager.StageAsync("teststore://bucket/sets", _temp.Combine("sets"), options);

        var rewritten = TestBytes(200_000, 26);
        await bucket.PutAsync("sets/a.bin", rewritten, PutMode.Overwrite);
        var second = await DataStager.StageAsync("teststore://bucket/sets", _temp.Combine("sets"), options);
        Assert.Equal(rewritten, await File.ReadAllBytesAsync(_temp.Combine("sets", "a.bin")));
        Assert.Equal(rewritten.Length, second.BytesDownloaded);
        Assert.Equal(1, second.FilesFromCache);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rewrite_that_keeps_the_size_and_the_time_in_seconds_still_replaces_the_copy()
    {
        Directory.CreateDirectory(_temp.Combine("remote"));
        var bucket = new FolderStore(_temp.Combine("remote", "bucket"));
        await bucket.PutAsync("f.bin", TestBytes(50_000, 29), PutMode.Overwrite);
        var coarse = new TestStoreProvider(_temp.Combine("remote"), store => new OneSecondClock(store));
        var options = Options(stores: new StoreRegistry().Register(coarse));
        var dest = _temp.Combine("f.bin");
        await DataStager.StageAsync("teststore://bucket/f.bin", dest, options);

        var rewritten = TestBytes(50_000, 30);
        await bucket.PutAsync("f.bin", rewritten, PutMode.Overwrite);
        var second = await DataStager.StageAsync("teststore://bucket/f.bin", dest, options);
        Assert.Equal(rewritten.Length, second.BytesDownloaded);
        Assert.Equal(0, second.FilesUnchanged);
        Assert.Equal(rewritten, await File.ReadAllBytesAsync(dest));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_object_rewritten_during_its_download_is_refused_and_the_next_stage_gets_the_new_bytes()
    {
        Directory.CreateDirectory(_temp.Combine("remote"));
        var bucket = new FolderStore(_temp.Combine("remote", "bucket"));
        await bucket.PutAsync("f.bin", TestBytes(300_000, 27), PutMode.Overwrite);
        var rewritten = TestBytes(300_000, 28);
        var rewriting = new TestStoreProvider(_temp.Combine("remote"),
            store => new RewriteOnFirstRead(store, () => bucket.PutAsync("f.bin", rewritten, PutMode.Overwrite)));
        var dest = _temp.Combine("f.bin");

        var error = await Assert.ThrowsAsync<StoreException>(() => DataStager.StageAsync("teststore://bucket/f.bin", dest, Options(stores: new StoreRegistry().Register(rewriting))));
        Assert.Contains("changed while it was being downloaded", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dest));

        var plain = new TestStoreProvider(_temp.Combine("remote"));
        await DataStager.StageAsync("teststore://bucket/f.bin", dest, Options(stores: new StoreRegistry().Register(plain)));
        Assert.Equal(rewritten, await File.ReadAllBytesAsync(dest));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_local_folder_is_copied_and_an_unchanged_copy_is_left_alone()
    {
        var source = _temp.Combine("local");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 100_000, 20);
        TestData.WriteRandomFile(Path.Combine(source, "d", "b.bin"), 10_000, 21);
        var first = await DataStager.StageAsync(source, _temp.Combine("copy"), Options());
        Assert.Equal(2, first.Files);
        TestData.AssertSameTree(source, _temp.Combine("copy"));

        var second = await DataStager.StageAsync(source, _temp.Combine("copy"), Options());
        Assert.Equal(2, second.FilesUnchanged);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_cache_keeps_no_signed_query_and_the_progress_reaches_the_total()
    {
        var data = TestBytes(500_000, 22);
        _server.Serve("/s.bin", data);
        var progress = new Recorder();
        await DataStager.StageAsync(_server.Url("/s.bin?X-Amz-Signature=TOPSECRETSIG"), _temp.Combine("s.bin"), Options(progress: progress));
        foreach (var file in Directory.EnumerateFiles(Cache, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("TOPSECRETSIG", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }

        Assert.Equal(new TransferProgress(data.Length, data.Length, 1, 1), progress.Last);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _temp.Dispose();
    }

    private StageOptions Options(IProgress<TransferProgress>? progress = null, long threshold = 32L << 20, long part = 16L << 20,
        bool refresh = false, Uri? gcs = null, StoreRegistry? stores = null) => new()
    {
        CacheDirectory = Cache,
        Progress = progress,
        ParallelThreshold = threshold,
        PartSize = part,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        IdleTimeout = TimeSpan.FromSeconds(10),
        Refresh = refresh,
        GcsEndpoint = gcs ?? new Uri("http://127.0.0.1:9"),
        Stores = stores,
    };

    private static byte[] TestBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Cancels the stage once some bytes have arrived (progress is reported synchronously).</summary>
    private sealed class StopAfter(long bytes, CancellationTokenSource stop) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            if (value.Bytes >= bytes)
            {
                stop.Cancel();
            }
        }
    }

    private sealed class Recorder : IProgress<TransferProgress>
    {
        public TransferProgress Last { get; private set; }

        public void Report(TransferProgress value) => Last = value;
    }

    /// <summary>A scheme whose stores are folders under a root, standing in for s3:// or sftp:// in these tests.</summary>
    private sealed class TestStoreProvider(string root, Func<IObjectStore, IObjectStore>? wrap = null) : IStoreProvider
    {
        public IReadOnlyList<string> Schemes { get; } = ["teststore"];

        public IObjectStore Create(StoreUri uri)
        {
            var store = new FolderStore(Path.Combine(root, uri.Body.TrimStart('/')));
            return wrap is null ? store : wrap(store);
        }
    }

    /// <summary>Reports every object as changed in the same second (a coarse clock), keeping the version tag.</summary>
    private sealed class OneSecondClock(IObjectStore inner) : ObjectStoreDecorator(inner)
    {
        private static readonly DateTimeOffset Second = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) =>
            await Inner.StatAsync(key, cancellationToken) is { } info ? info with { LastModified = Second } : null;

        public override async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var info in Inner.ListAsync(prefix, cancellationToken))
            {
                yield return info with { LastModified = Second };
            }
        }
    }

    /// <summary>Replaces an object (through <paramref name="rewrite"/>) just after its first read has begun.</summary>
    private sealed class RewriteOnFirstRead(IObjectStore inner, Func<Task> rewrite) : ObjectStoreDecorator(inner)
    {
        private int _reads;

        public override async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
        {
            var stream = await Inner.OpenReadAsync(key, offset, length, cancellationToken);
            if (Interlocked.Increment(ref _reads) == 1)
            {
                await rewrite();
            }

            return stream;
        }
    }
}
