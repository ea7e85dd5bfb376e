using Baton.Testing;

namespace Baton.Storage.Rclone.Tests;

/// <summary>The conformance suite through an rclone S3 remote on s3rver, in a bucket that already exists.</summary>
public sealed class RcloneS3StoreConformanceTests(RcloneS3Remote remote) : ObjectStoreConformance, IClassFixture<RcloneS3Remote>
{
    // s3rver writes a single-request upload in place while it arrives; real S3 shows an object only once it is whole.
    protected override bool ServerKeepsPartialUploads => true;

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult<IObjectStore>(remote.Store("conformance-" + Guid.NewGuid().ToString("N")[..8]));
}

/// <summary>Which rclone commands the store's writes and reads run, recorded by a wrapper around the real rclone.</summary>
public sealed class RcloneStoreCommandTests(RcloneS3Remote s3) : IClassFixture<RcloneS3Remote>, IDisposable
{
    private readonly TempDirectory _temp = new("baton-rclone-log-");
    private readonly RcloneRemote _local = new();

    [Fact(Timeout = 60_000)]
    public async Task On_an_S3_remote_a_put_uploads_straight_to_the_key_without_a_server_side_move()
    {
        await using var store = s3.Store("direct-" + Guid.NewGuid().ToString("N")[..8], Wrapper());
        var data = new byte[3_000_000];
        new Random(7).NextBytes(data);
        await store.PutAsync("data/pack", data, PutMode.CreateNew);
        await store.PutAsync("data/pack", data, PutMode.Overwrite);

        var commands = Commands();
        Assert.DoesNotContain(commands, c => c.StartsWith("moveto", StringComparison.Ordinal));
        Assert.Equal(2, commands.Count(c => c.StartsWith("rcat", StringComparison.Ordinal) && c.EndsWith("/data/pack", StringComparison.Ordinal)));
        Assert.Equal(data, await store.ReadAllAsync("data/pack"));
        var listed = await store.ListAsync("").ToListAsync();
        Assert.Equal(["data/pack"], listed.Select(o => o.Key));
    }

    [Fact(Timeout = 60_000)]
    public async Task On_a_local_remote_a_put_still_goes_to_a_temporary_name_and_is_moved()
    {
        // rclone 1.60 writes a local file in place while it arrives: only the move makes the object appear whole.
        var folder = "moved-" + Guid.NewGuid().ToString("N")[..8];
        await using var store = new RcloneStore(RcloneAddress.Parse(StoreUri.Parse(_local.Address(folder))),
            new RcloneSettings { Program = Wrapper(), Environment = _local.Environment });
        await store.PutAsync("k", new byte[] { 1, 2, 3 }, PutMode.Overwrite);

        var commands = Commands();
        Assert.Contains(commands, c => c.StartsWith("rcat", StringComparison.Ordinal) && c.Contains("/.tmp-", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.StartsWith("moveto", StringComparison.Ordinal) && c.EndsWith($"{folder}/k", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task On_an_S3_remote_reading_a_missing_key_in_an_existing_bucket_is_not_found()
    {
        // rclone cat reads a missing key of a bucket as an empty folder and exits 0.
        await using var store = s3.Store("missing-" + Guid.NewGuid().ToString("N")[..8]);
        await store.PutAsync("present", new byte[] { 1 }, PutMode.Overwrite);
        var error = await Assert.ThrowsAsync<StoreException>(() => store.ReadAllAsync("config"));
        Assert.Equal(StoreErrorReason.NotFound, error.Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task Ranged_reads_of_one_object_share_one_rclone_cat_and_read_exactly_their_bytes()
    {
        var folder = "ranges-" + Guid.NewGuid().ToString("N")[..8];
        await using var store = new RcloneStore(RcloneAddress.Parse(StoreUri.Parse(_local.Address(folder))),
            new RcloneSettings { Program = Wrapper(), Environment = _local.Environment });
        var data = new byte[5_000_000];
        new Random(11).NextBytes(data);
        await store.PutAsync("pack", data, PutMode.Overwrite);

        // Out of order and at once, as a restore's chunk reads come.
        var ranges = Enumerable.Range(0, 20).Select(i => (Offset: (19 - i) * 250_000L, Length: 200_000 + i)).ToList();
        var reads = await Task.WhenAll(ranges.Select(r => store.ReadRangeAsync("pack", r.Offset, r.Length)));

        for (var i = 0; i < ranges.Count; i++)
        {
            Assert.Equal(data.AsSpan((int)ranges[i].Offset, ranges[i].Length).ToArray(), reads[i]);
        }

        Assert.Single(Commands(), c => c.StartsWith("cat", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_ranged_read_after_an_overwrite_through_the_store_sees_the_new_bytes()
    {
        await using var store = _local.Store("reread-" + Guid.NewGuid().ToString("N")[..8]);
        await store.PutAsync("k", Enumerable.Repeat((byte)1, 100_000).ToArray(), PutMode.Overwrite);
        Assert.Equal(Enumerable.Repeat((byte)1, 10).ToArray(), await store.ReadRangeAsync("k", 500, 10));

        await store.PutAsync("k", Enumerable.Repeat((byte)2, 100_000).ToArray(), PutMode.Overwrite);
        Assert.Equal(Enumerable.Repeat((byte)2, 10).ToArray(), await store.ReadRangeAsync("k", 500, 10));

        await store.DeleteAsync("k");
        var error = await Assert.ThrowsAsync<StoreException>(() => store.ReadRangeAsync("k", 500, 10));
        Assert.Equal(StoreErrorReason.NotFound, error.Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_ranged_read_past_the_end_of_an_object_is_short_as_before()
    {
        await using var store = _local.Store("short-" + Guid.NewGuid().ToString("N")[..8]);
        await store.PutAsync("k", new byte[1000], PutMode.Overwrite);
        await using var stream = await store.OpenReadAsync("k", 900, 500);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(100, copy.Length);
    }

    public void Dispose()
    {
        _temp.Dispose();
        _local.Dispose();
    }

    // A script that appends its arguments to a log and runs the real rclone with them.
    private string Wrapper()
    {
        var path = _temp.Combine("rclone-wrapper");
        File.WriteAllText(path, $"#!/bin/sh\necho \"$*\" >> '{_temp.Combine("commands.log")}'\nexec '{s3.Program}' \"$@\"\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private List<string> Commands() => File.ReadAllLines(_temp.Combine("commands.log")).ToList();
}
