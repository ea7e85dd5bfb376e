using Baton.Storage;

namespace Baton.Testing;

/// <summary>
/// Interrupted and cancelled operations on each store: a put that is cancelled, before it starts or part-way through a
/// multipart or chunked upload, leaves the object whole or absent (never a part of it) and no temporary key in any
/// listing; a cancelled read, listing or write ends promptly with <see cref="OperationCanceledException"/>.
/// </summary>
public abstract partial class ObjectStoreConformance
{
    // Above the block threshold of the Azure store and the multipart threshold the S3 tests set (16 MiB), so their
    // chunked paths are the ones interrupted.
    private const int InterruptedPayloadSize = 24 * 1024 * 1024 + 5;

    // How long a cancelled call may take to return: generous for a loaded machine, far below a hung transfer.
    private static readonly TimeSpan CancellationBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// True only for a test server that writes a single-request upload in place (s3rver): it lists the object at a
    /// partial size while it arrives and keeps it, truncated, when the client gives up. Real S3 does neither; such a
    /// server must still show no key but the object's own, and never more than its size.
    /// </summary>
    protected virtual bool ServerKeepsPartialUploads => false;

    /// <summary>
    /// True for a server that counts the uncommitted blocks of an abandoned upload as an existing blob for a
    /// create-if-absent write while every read says the blob is absent (Azurite does); such a create is then refused.
    /// Baton creates-if-absent only small metadata objects, which go up in one request and leave no blocks.
    /// </summary>
    protected virtual bool ServerRefusesCreateOverAnAbandonedUpload => false;

    /// <summary>
    /// Where a store keeps its objects as files on this machine (a folder, or the folder an SFTP server or rclone
    /// remote serves), for the test just created; null where there is no such folder. Files there that no listing
    /// shows (a temporary file left by an interrupted put) are litter.
    /// </summary>
    protected virtual string? BackingFolder => null;

    [Fact(Timeout = 120_000)]
    public async Task A_put_with_a_cancelled_token_throws_and_leaves_nothing_behind()
    {
        await using var store = await CreateStoreAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        foreach (var (key, size) in new[] { ("pre-cancelled-small", 1000), ("pre-cancelled-large", InterruptedPayloadSize) })
        {
            foreach (var mode in new[] { PutMode.CreateNew, PutMode.Overwrite })
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(
                    () => store.PutAsync(key, Bytes(size, 30), mode, cancelled.Token).WaitAsync(CancellationBound));
                await AssertAbsentAsync(store, key);
            }

            await store.PutAsync(key, Bytes(100, 31), PutMode.CreateNew);
        }

        await AssertNoLitterAsync(store);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_put_cancelled_part_way_leaves_the_object_whole_or_absent_and_a_new_create_succeeds()
    {
        await using var store = await CreateStoreAsync();
        var data = Bytes(InterruptedPayloadSize, 32);
        var present = new List<string>();
        var leftovers = new List<string>();

        // Cancellation points spread over the upload: where each lands depends on the store's speed, so several are
        // tried and every outcome must keep the contract. The first (a token cancelled before the call) is certain to
        // interrupt the put; the second is cancelled as soon as the call returns its task.
        var delays = new[] { -1, 0, 20, 200, 1000 };
        var cancelledCount = 0;
        for (var i = 0; i < delays.Length; i++)
        {
            var key = $"interrupted-{i}";
            var mode = i % 2 == 0 ? PutMode.CreateNew : PutMode.Overwrite;
            using var cancellation = new CancellationTokenSource();
            if (delays[i] < 0)
            {
                await cancellation.CancelAsync();
            }

            // Started in place (not on another thread), so the second cancellation point falls inside the call.
            var put = StartPut(store, key, data, mode, cancellation.Token);
            if (delays[i] == 0)
            {
                await cancellation.CancelAsync();
            }
            else if (delays[i] > 0)
            {
                cancellation.CancelAfter(delays[i]);
            }

            var outcome = await Record.ExceptionAsync(() => put.WaitAsync(CancellationBound));
            Assert.True(outcome is null or OperationCanceledException, $"a cancelled put of {key} threw {outcome}");
            cancelledCount += outcome is null ? 0 : 1;
            var after = await store.StatAsync(key);
            if (after is null && outcome is not null)
            {
                if (ServerKeepsPartialUploads)
                {
                    // The server may still be writing what it received; the key is left alone.
                    leftovers.Add(key);
                    continue;
                }

                await AssertAbsentAsync(store, key);
                present.Add(key);
                var create = await Record.ExceptionAsync(() => store.PutAsync(key, Bytes(100, 33), PutMode.CreateNew));
                if (create is null)
                {
                    Assert.Equal(100, (await store.StatAsync(key))?.Size);
                    continue;
                }

                // A commit request already on its way when the caller gave up can still land (HTTP has no recall);
                // then it is the whole object, never a part.
                Assert.True(create is StoreException { Reason: StoreErrorReason.AlreadyExists }, $"a new create of {key} after a cancelled put threw {create}");
                after = await store.StatAsync(key);
                if (after is null && ServerRefusesCreateOverAnAbandonedUpload)
                {
                    present.Remove(key);
                    leftovers.Add(key);
                    continue;
                }
            }
            else if (after is { } partial && partial.Size != data.Length && outcome is not null && ServerKeepsPartialUploads)
            {
                leftovers.Add(key);
                continue;
            }
            else
            {
                present.Add(key);
            }

            // Finished, or cancelled only after the store had committed it (the commit request was already sent): whole.
            Assert.True(after?.Size == data.Length, $"{key} after a put that ended with {outcome?.GetType().Name ?? "success"} is {after?.ToString() ?? "absent"}, not whole");
            Assert.Equal(data.AsSpan(data.Length - 1000).ToArray(), await store.ReadRangeAsync(key, data.Length - 1000, 1000));
        }

        Assert.True(cancelledCount > 0, "no put was cancelled; the test exercised nothing");
        var listed = (await store.ListAllAsync("")).Select(i => i.Key).ToHashSet();
        Assert.Subset(listed, present.ToHashSet());
        Assert.Superset(listed, present.Concat(leftovers).ToHashSet());
        await AssertNoLitterAsync(store);
    }

    [Fact(Timeout = 300_000)]
    public async Task Temporary_keys_never_appear_in_listings_during_or_after_a_put()
    {
        await using var store = await CreateStoreAsync();
        var small = Bytes(1000, 34);
        await store.PutAsync("t/small", small, PutMode.Overwrite);
        var data = Bytes(InterruptedPayloadSize, 35);

        // Both put modes at once: S3 uploads an overwrite in parts, a create-if-absent one in a single request.
        var puts = Task.WhenAll(
            store.PutAsync("t/replaced", data, PutMode.Overwrite),
            store.PutAsync("t/created", data, PutMode.CreateNew));
        var expected = new Dictionary<string, long> { ["t/small"] = small.Length, ["t/replaced"] = data.Length, ["t/created"] = data.Length };
        var listings = 0;
        do
        {
            foreach (var item in await store.ListAllAsync(""))
            {
                Assert.True(expected.TryGetValue(item.Key, out var size), $"listing {listings} during a put shows {item.Key} ({item.Size} bytes)");
                Assert.True(size == item.Size || (ServerKeepsPartialUploads && item.Size < size), $"listing {listings} during a put shows {item.Key} with {item.Size} of its {size} bytes");
            }

            listings++;
        }
        while (!puts.IsCompleted);

        await puts;
        var after = await store.ListAllAsync("");
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), after.Select(i => KeyValuePair.Create(i.Key, i.Size)).OrderBy(e => e.Key, StringComparer.Ordinal));
        await AssertNoLitterAsync(store);
    }

    [Fact(Timeout = 120_000)]
    public async Task Cancelled_reads_stats_and_listings_end_promptly_with_operation_canceled()
    {
        await using var store = await CreateStoreAsync();
        var data = Bytes(4 * 1024 * 1024, 36);
        await store.PutAsync("c/object", data, PutMode.Overwrite);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.OpenReadAsync("c/object", 0, -1, cancelled.Token).WaitAsync(CancellationBound));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ReadAllAsync("c/object", cancelled.Token).WaitAsync(CancellationBound));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.StatAsync("c/object", cancelled.Token).WaitAsync(CancellationBound));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ListAllAsync("c/", cancelled.Token).WaitAsync(CancellationBound));

        // A read already under way: the open stream honours the token of each read.
        await using var stream = await store.OpenReadAsync("c/object");
        var buffer = new byte[64 * 1024];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.ReadAsync(buffer, cancelled.Token).AsTask().WaitAsync(CancellationBound));

        // And the store still works afterwards.
        Assert.Equal(data.Length, (await store.StatAsync("c/object"))?.Size);
    }

    // Nothing stored but what a listing shows: no temporary file, no upload in progress the store knows of.
    private async Task AssertNoLitterAsync(IObjectStore store)
    {
        Assert.Null(await store.FindUnlistedEntryAsync());
        if (BackingFolder is { } folder)
        {
            var files = Directory.Exists(folder)
                ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).ToHashSet()
                : [];
            var listed = (await store.ListAllAsync("")).Select(i => i.Key).ToHashSet();
            Assert.True(files.SetEquals(listed), $"files no listing shows: {string.Join(", ", files.Except(listed))}; listed keys with no file: {string.Join(", ", listed.Except(files))}");
        }
    }

    // A put whose synchronous failures, if any, are in the task like the asynchronous ones.
    private static async Task StartPut(IObjectStore store, string key, byte[] data, PutMode mode, CancellationToken cancellationToken) =>
        await store.PutAsync(key, data, mode, cancellationToken);

    // Absent by every way of looking: Stat, a listing and a read agree.
    private static async Task AssertAbsentAsync(IObjectStore store, string key)
    {
        var stat = await store.StatAsync(key);
        Assert.True(stat is null, $"{key} is still there after a failed put: {stat}");
        Assert.DoesNotContain(await store.ListAllAsync(""), i => i.Key == key);
        var error = await Assert.ThrowsAsync<StoreException>(() => store.ReadAllAsync(key));
        Assert.Equal(StoreErrorReason.NotFound, error.Reason);
    }
}
