using Baton.Maintenance;
using Baton.Repositories;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Maintenance;

/// <summary>A collection's marker never vouches for a collection that was paused, wherever in its heartbeat the pause fell.</summary>
public sealed class CollectionMarkerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task A_collection_paused_between_its_liveness_check_and_its_heartbeat_write_stops_before_deleting()
    {
        // The pause falls right after the heartbeat found the marker in place; meanwhile a push judges the marker
        // stale and removes it (as CommitConfirmation does), then the heartbeat's write brings it back.
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var store = new PausedAfterStat(new FolderStore(_temp.Combine("store")));
        var repository = await Repository.OpenOrInitAsync(store, new RepositoryOptions { TimeProvider = clock });
        await using var collection = await InFlightMarker.BeginCollectionAsync(repository);
        store.PauseAfterNextStat(async key =>
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            await store.DeleteAsync(key);
        });

        var error = await Assert.ThrowsAsync<ConflictException>(async () =>
        {
            await InFlightMarker.ListLiveAsync(repository, collection);
            await collection.EnsureAliveAsync(CancellationToken.None);
        });

        Assert.Contains("stopped without deleting more", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>Runs a pause once, after a stat of a marker has answered and before its caller goes on.</summary>
    private sealed class PausedAfterStat(IObjectStore inner) : ObjectStoreDecorator(inner)
    {
        private Func<string, Task>? _pause;

        public void PauseAfterNextStat(Func<string, Task> pause) => _pause = pause;

        public override async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
        {
            var info = await base.StatAsync(key, cancellationToken);
            if (key.StartsWith(InFlightMarker.Prefix, StringComparison.Ordinal) && Interlocked.Exchange(ref _pause, null) is { } pause)
            {
                await pause(key);
            }

            return info;
        }
    }
}
