using System.Text;
using Baton.Storage;

namespace Baton.Testing;

/// <summary>
/// The contract every <see cref="IObjectStore"/> must keep (see the interface's remarks). Each store's tests derive
/// from this class once and supply <see cref="CreateStoreAsync"/>; every test gets a fresh, empty store.
/// </summary>
public abstract partial class ObjectStoreConformance
{
    /// <summary>Creates an empty store for one test (a fresh prefix or folder).</summary>
    protected abstract Task<IObjectStore> CreateStoreAsync();

    [Fact(Timeout = 60_000)]
    public async Task An_object_reads_back_exactly_as_written()
    {
        await using var store = await CreateStoreAsync();
        var data = Bytes(100_000, 1);
        await store.PutAsync("a/b/object", data, PutMode.Overwrite);
        Assert.Equal(data, await store.ReadAllAsync("a/b/object"));
        Assert.Equal(data.Length, (await store.StatAsync("a/b/object"))?.Size);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_empty_object_is_an_object()
    {
        await using var store = await CreateStoreAsync();
        await store.PutAsync("empty", ReadOnlyMemory<byte>.Empty, PutMode.CreateNew);
        Assert.Equal(0, (await store.StatAsync("empty"))?.Size);
        Assert.Empty(await store.ReadAllAsync("empty"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_range_read_returns_exactly_that_range()
    {
        await using var store = await CreateStoreAsync();
        var data = Bytes(50_000, 2);
        await store.PutAsync("ranged", data, PutMode.Overwrite);
        Assert.Equal(data.AsSpan(1234, 5000).ToArray(), await store.ReadRangeAsync("ranged", 1234, 5000));
        await using var tail = await store.OpenReadAsync("ranged", 49_000);
        using var memory = new MemoryStream();
        await tail.CopyToAsync(memory);
        Assert.Equal(data.AsSpan(49_000).ToArray(), memory.ToArray());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_object_is_not_found()
    {
        await using var store = await CreateStoreAsync();
        Assert.Null(await store.StatAsync("missing"));
        var error = await Assert.ThrowsAsync<StoreException>(() => store.ReadAllAsync("missing"));
        Assert.Equal(StoreErrorReason.NotFound, error.Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task Overwrite_replaces_an_object()
    {
        await using var store = await CreateStoreAsync();
        await store.PutAsync("k", Encoding.UTF8.GetBytes("first"), PutMode.Overwrite);
        await store.PutAsync("k", Encoding.UTF8.GetBytes("second, longer"), PutMode.Overwrite);
        Assert.Equal("second, longer", Encoding.UTF8.GetString(await store.ReadAllAsync("k")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Create_new_refuses_an_existing_object_and_keeps_it()
    {
        await using var store = await CreateStoreAsync();
        await store.PutAsync("once", Encoding.UTF8.GetBytes("first"), PutMode.CreateNew);
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync("once", Encoding.UTF8.GetBytes("second"), PutMode.CreateNew));
        Assert.Equal(StoreErrorReason.AlreadyExists, error.Reason);
        Assert.Equal("first", Encoding.UTF8.GetString(await store.ReadAllAsync("once")));
    }

    [Fact(Timeout = 120_000)]
    public async Task Racing_create_new_writes_have_exactly_one_winner()
    {
        await using var store = await CreateStoreAsync();
        if (!store.Capabilities.AtomicCreate)
        {
            // The store says it cannot enforce this; Baton then uses its documented weaker guarantee. The claim itself is
            // what is tested: a store that reports no atomic create must not also be trusted by the writer lease.
            Assert.False(store.Capabilities.AtomicCreate);
            return;
        }

        for (var round = 0; round < 5; round++)
        {
            var key = $"race/{round}";
            var attempts = Enumerable.Range(0, 8).Select(async i =>
            {
                try
                {
                    await store.PutAsync(key, Encoding.UTF8.GetBytes($"writer {i}"), PutMode.CreateNew);
                    return i;
                }
                catch (StoreException e) when (e.Reason == StoreErrorReason.AlreadyExists)
                {
                    return -1;
                }
            });
            var winners = (await Task.WhenAll(attempts)).Where(i => i >= 0).ToList();
            Assert.Single(winners);
            Assert.Equal($"writer {winners[0]}", Encoding.UTF8.GetString(await store.ReadAllAsync(key)));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task List_returns_exactly_the_keys_under_a_prefix_with_sizes()
    {
        await using var store = await CreateStoreAsync();
        await store.PutAsync("data/aa/1", Bytes(10, 3), PutMode.Overwrite);
        await store.PutAsync("data/ab/2", Bytes(20, 4), PutMode.Overwrite);
        await store.PutAsync("index/3", Bytes(30, 5), PutMode.Overwrite);
        await store.PutAsync("dataset", Bytes(40, 6), PutMode.Overwrite);

        var data = (await store.ListAllAsync("data/")).OrderBy(i => i.Key, StringComparer.Ordinal).ToList();
        Assert.Equal([("data/aa/1", 10L), ("data/ab/2", 20L)], data.Select(i => (i.Key, i.Size)));
        Assert.Equal(4, (await store.ListAllAsync("")).Count);
        Assert.Equal(2, (await store.ListAllAsync("data")).Count(i => i.Key.StartsWith("data/", StringComparison.Ordinal)));
        Assert.Empty(await store.ListAllAsync("nothing/here/"));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_untouched_object_reports_the_same_validators_on_every_call_and_in_listings()
    {
        await using var store = await CreateStoreAsync();
        var written = TimeProvider.System.GetUtcNow();
        await store.PutAsync("v/kept", Bytes(1000, 10), PutMode.Overwrite);

        var first = await StatAndListAsync(store, "v/kept");
        Assert.True(first.VersionTag is not null || first.LastModified is not null, $"{first} carries no validator: a changed object could not be told apart");
        if (first.LastModified is { } modified)
        {
            // A time in the wrong zone or unit would stamp staged files wrongly; an hour either way allows for coarse clocks.
            Assert.InRange(modified, written.AddHours(-1), written.AddHours(1));
        }

        await store.ReadAllAsync("v/kept");
        await store.PutAsync("v/other", Bytes(1000, 11), PutMode.Overwrite);
        Assert.Equal(first, await StatAndListAsync(store, "v/kept"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Overwriting_an_object_with_other_bytes_of_the_same_size_changes_its_validators()
    {
        await using var store = await CreateStoreAsync();
        await store.PutAsync("v/rewritten", Bytes(1000, 12), PutMode.Overwrite);
        var before = await StatAndListAsync(store, "v/rewritten");

        // A store whose only validator is a coarse time (SFTP: whole seconds) says so; only there is the overwrite
        // made in a later tick of that clock. Every other store must tell apart even two writes in a row.
        var resolution = store.Capabilities.ChangeResolution;
        if (resolution > TimeSpan.Zero)
        {
            await Task.Delay(resolution + TimeSpan.FromMilliseconds(100));
        }

        await store.PutAsync("v/rewritten", Bytes(1000, 13), PutMode.Overwrite);
        var after = await StatAndListAsync(store, "v/rewritten");
        Assert.Equal(before.Size, after.Size);
        Assert.NotEqual((before.VersionTag, before.LastModified), (after.VersionTag, after.LastModified));
    }

    [Fact(Timeout = 60_000)]
    public async Task Delete_removes_an_object_and_is_idempotent()
    {
        await using var store = await CreateStoreAsync();
        await store.PutAsync("gone", Bytes(10, 7), PutMode.Overwrite);
        await store.DeleteAsync("gone");
        await store.DeleteAsync("gone");
        Assert.Null(await store.StatAsync("gone"));
        Assert.Empty(await store.ListAllAsync("gone"));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_large_object_round_trips()
    {
        await using var store = await CreateStoreAsync();
        var data = Bytes(40 * 1024 * 1024 + 17, 8);
        await store.PutAsync("big", data, PutMode.Overwrite);
        Assert.Equal(data.Length, (await store.StatAsync("big"))?.Size);
        var back = await store.ReadAllAsync("big");
        Assert.True(data.AsSpan().SequenceEqual(back));
        Assert.Equal(data.AsSpan(30_000_000, 1000).ToArray(), await store.ReadRangeAsync("big", 30_000_000, 1000));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("../escape")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a/../../b")]
    public async Task Keys_that_could_escape_the_store_are_refused(string key)
    {
        await using var store = await CreateStoreAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(key, Bytes(1, 9), PutMode.Overwrite));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_location_never_shows_credentials()
    {
        await using var store = await CreateStoreAsync();
        Assert.DoesNotMatch("(?i)(secret|password|accountkey|sig=)", store.Location);
    }

    // What Stat says of an object, checked to be what a listing says: staging describes a folder by listing it and
    // later asks Stat whether an object changed, so the two must agree.
    private static async Task<ObjectInfo> StatAndListAsync(IObjectStore store, string key)
    {
        var stat = await store.StatAsync(key) ?? throw new InvalidOperationException($"{key} is missing");
        var listed = Assert.Single(await store.ListAllAsync(key), i => i.Key == key);
        Assert.Equal(stat, listed);
        return stat;
    }

    protected static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
