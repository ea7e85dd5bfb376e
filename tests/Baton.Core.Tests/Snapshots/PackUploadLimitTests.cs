using Baton.Storage;
using Baton.Snapshots;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Snapshots;

/// <summary>A push keeps no more packs uploading at once than its store asks for (each holds a whole pack in memory).</summary>
public sealed class PackUploadLimitTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 60_000)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Pack_uploads_in_flight_never_exceed_the_stores_limit_and_reach_it(int limit)
    {
        var store = new SlowPackStore(new FolderStore(_temp.Combine($"store-{limit}")), limit);
        var repository = await TestRepositories.CreateAsync(store);
        var source = _temp.Combine($"src-{limit}");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 6_000_000, 5);

        await repository.PushAsync(source, "r");

        Assert.True(store.Uploads > 4, $"{store.Uploads} pack uploads");
        Assert.Equal(limit, store.MostAtOnce);
    }

    public void Dispose() => _temp.Dispose();

    // Pack writes take a while, so that the packer fills the next pack before the last one is stored.
    private sealed class SlowPackStore(IObjectStore inner, int packUploads) : ObjectStoreDecorator(inner)
    {
        private int _inFlight;
        private int _most;
        private int _uploads;

        public int MostAtOnce => Volatile.Read(ref _most);

        public int Uploads => Volatile.Read(ref _uploads);

        public override StoreCapabilities Capabilities => Inner.Capabilities with { PackUploads = packUploads };

        public override async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
        {
            if (!key.StartsWith("data/", StringComparison.Ordinal))
            {
                await Inner.PutAsync(key, data, mode, cancellationToken);
                return;
            }

            var now = Interlocked.Increment(ref _inFlight);
            Interlocked.Increment(ref _uploads);
            InterlockedMax(ref _most, now);
            try
            {
                await Task.Delay(500, cancellationToken);
                await Inner.PutAsync(key, data, mode, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }
}
