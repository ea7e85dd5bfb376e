using Baton.Maintenance;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Maintenance;

/// <summary>
/// A prune that repacks, cut off after every possible number of writes (as a killed process is) and run through
/// randomly failing stores: no committed snapshot ever references missing data, every one restores bit-identical,
/// and the next prune finishes the work.
/// </summary>
public sealed class RepackFaultTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 300_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_prune_cut_off_after_any_number_of_writes_never_leaves_a_snapshot_referencing_missing_data(bool encrypted)
    {
        var scenario = new RepackScenario(_temp, encrypted);
        var pristine = _temp.Combine("pristine");
        await scenario.CreateAsync(pristine);

        // The uninterrupted prune: how many writes it makes, and what it leaves.
        var full = new CutOffStore(new FolderStore(CopyOf(pristine, "full")), int.MaxValue);
        var result = (await new Pruner(await scenario.OpenAsync(full)).PruneAsync("r", RepackScenario.KeepLast)).Collection;
        Assert.Equal((1, 2), (result.PacksDeleted, result.PacksRepacked));
        var expected = await RepackScenario.PacksAsync(full);

        for (var cut = 0; cut < full.Writes; cut++)
        {
            var path = CopyOf(pristine, $"cut-{cut}");
            var dying = new CutOffStore(new FolderStore(path), cut);
            try
            {
                await new Pruner(await scenario.OpenAsync(dying)).PruneAsync("r", RepackScenario.KeepLast);
            }
            catch (StoreException e) when (e.Message.Contains("cut off", StringComparison.Ordinal))
            {
            }

            Assert.True(dying.CutOff, $"the prune made fewer than {cut + 1} writes");
            await AssertRecoversAsync(scenario, path, $"cut after {cut} of {full.Writes} writes", expected);
        }
    }

    [Theory(Timeout = 300_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_prune_through_a_failing_store_never_leaves_a_snapshot_referencing_missing_data(bool encrypted)
    {
        var scenario = new RepackScenario(_temp, encrypted);
        var pristine = _temp.Combine("pristine");
        await scenario.CreateAsync(pristine);
        var seed = Random.Shared.Next();
        var random = new Random(seed);
        var injected = 0;
        var failed = 0;
        for (var attempt = 0; attempt < 12; attempt++)
        {
            var path = CopyOf(pristine, $"attempt-{attempt}");
            var options = FaultOptions.Uniform(0.02 + (random.NextDouble() * 0.08), random.Next()) with { Reason = StoreErrorReason.Permanent };
            var faulty = new FaultInjectingStore(new FolderStore(path), options);
            try
            {
                await new Pruner(await scenario.OpenAsync(faulty)).PruneAsync("r", RepackScenario.KeepLast);
            }
            catch (Exception e) when (e is StoreException or IOException)
            {
                failed++;
            }

            injected += faulty.Injected;
            await AssertRecoversAsync(scenario, path, $"seed {seed}, attempt {attempt}", expected: null);
        }

        Assert.True(injected > 0 && failed > 0, $"seed {seed}: {injected} faults injected, {failed} prunes failed: the test proved nothing");
    }

    // Through a clean view of the store: healthy and restorable as it is; then, once the dead prune's in-flight record
    // is forgotten, a prune finishes the work and leaves no warning (no unindexed pack, nothing missing).
    private static async Task AssertRecoversAsync(RepackScenario scenario, string path, string because, (int, long)? expected)
    {
        var clean = new FolderStore(path);
        await scenario.AssertHealthyAsync(await scenario.OpenAsync(clean), because);
        await RepackScenario.ForgetInFlightAsync(clean);
        var repository = await scenario.OpenAsync(clean);
        var result = (await new Pruner(repository).PruneAsync("r", RepackScenario.KeepLast)).Collection;
        Assert.True(result.Deferred is null, $"{because}: {result.Deferred}");
        Assert.True((await scenario.AssertHealthyAsync(repository, because + ", then pruned again")).Count == 0, because);
        Assert.Empty(await clean.ListAllAsync(GarbageCollector.Prefix));
        if (expected is { } packs)
        {
            Assert.Equal(packs.Item1, (await RepackScenario.PacksAsync(clean)).Count);
        }

        Directory.Delete(path, recursive: true);
    }

    private string CopyOf(string source, string name)
    {
        var target = _temp.Combine(name);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>A store whose process dies after <paramref name="writes"/> writes and deletes: every operation after
    /// that fails, as nothing more reaches the store from a killed process.</summary>
    private sealed class CutOffStore(IObjectStore inner, int writes) : ObjectStoreDecorator(inner)
    {
        private int _writes;

        public int Writes => _writes;

        public bool CutOff { get; private set; }

        public override Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
        {
            Write(key);
            return base.PutAsync(key, data, mode, cancellationToken);
        }

        public override Task DeleteAsync(string key, CancellationToken cancellationToken = default)
        {
            Write(key);
            return base.DeleteAsync(key, cancellationToken);
        }

        public override Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
        {
            Alive(key);
            return base.OpenReadAsync(key, offset, length, cancellationToken);
        }

        public override IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default)
        {
            Alive(prefix);
            return base.ListAsync(prefix, cancellationToken);
        }

        public override Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
        {
            Alive(key);
            return base.StatAsync(key, cancellationToken);
        }

        private void Write(string key)
        {
            if (Interlocked.Increment(ref _writes) > writes)
            {
                CutOff = true;
            }

            Alive(key);
        }

        private void Alive(string key)
        {
            if (CutOff)
            {
                throw new StoreException(StoreErrorReason.Permanent, Location, key, $"cut off before '{key}'");
            }
        }
    }
}
