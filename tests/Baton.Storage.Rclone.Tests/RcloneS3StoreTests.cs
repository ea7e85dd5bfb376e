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

/// <summary>How the rclone store writes: which rclone commands a put runs, recorded by a wrapper around the real rclone.</summary>
public sealed class RcloneStoreWriteTests(RcloneS3Remote s3) : IClassFixture<RcloneS3Remote>, IDisposable
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
