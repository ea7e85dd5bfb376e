using System.Buffers.Binary;
using Amazon.Runtime;
using Baton.Compression;
using Baton.Index;
using Baton.Repositories;
using Baton.Storage.Folder;
using Baton.Storage.S3;
using Baton.Testing;

namespace Baton.Tests.Format;

/// <summary>
/// Codec 5 through the real command line: under <c>--compression small</c> a checkpoint rewritten in place with its
/// numbers moved a little is stored as deltas against the previous snapshot's chunks, in fewer bytes, and every reader
/// (pull, check, prune, the independent reader) handles them; chains stay one level deep.
/// </summary>
public sealed class DeltaPushTests : IAsyncLifetime
{
    private const string Small = "small";
    private readonly TempDirectory _temp = new();
    private S3rver? _s3rver;

    [Fact(Timeout = 300_000)]
    public async Task A_slightly_changed_checkpoint_is_stored_as_deltas_in_fewer_bytes_and_restores_bit_exact()
    {
        var (v1, v2) = (Checkpoint("v1", 1), Nudged("v1", "v2", 2));
        var store = _temp.Combine("store");
        var plain = _temp.Combine("plain");

        await PushAsync(v1, store, 1);
        var before = DataBytes(store);
        await PushAsync(v2, store, 2);
        var grown = DataBytes(store) - before;
        await PushAsync(v2, plain, 2);

        var (index, snapshots) = await ReadAsync(store);
        var deltas = ChunksOf(snapshots[1]).Where(c => Location(index, c).Codec == BlobCodec.Delta).ToList();
        Assert.NotEmpty(deltas);
        Assert.All(deltas, d => Assert.Contains(Location(index, d).Base!.Value.ToString(), ChunksOf(snapshots[0])));
        Assert.True(grown < DataBytes(plain) * 9 / 10, $"the second push stored {grown} bytes; {DataBytes(plain)} on its own");

        await AssertPullsAsync(store, v1, "--step", "1");
        await AssertPullsAsync(store, v2);
        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    [Fact(Timeout = 300_000)]
    public async Task A_checkpoint_saved_under_the_next_steps_name_is_stored_as_deltas_against_the_previous_one()
    {
        var (v1, v2) = (Checkpoint("v1", 18), Nudged("v1", "v2", 19));
        var (step100, step200) = (_temp.Combine("step-100"), _temp.Combine("step-200"));
        Directory.CreateDirectory(Path.Combine(step100, "checkpoint-100"));
        Directory.CreateDirectory(Path.Combine(step200, "checkpoint-200"));
        File.Copy(Path.Combine(v1, "model.f32"), Path.Combine(step100, "checkpoint-100", "model-100.f32"));
        File.Copy(Path.Combine(v2, "model.f32"), Path.Combine(step200, "checkpoint-200", "model-200.f32"));
        var store = _temp.Combine("store");

        await PushAsync(step100, store, 100);
        await PushAsync(step200, store, 200);

        var (index, snapshots) = await ReadAsync(store);
        Assert.Contains(ChunksOf(snapshots[1]), c => Location(index, c).Codec == BlobCodec.Delta);
        Assert.Equal(LengthsOf(index, snapshots[0]), LengthsOf(index, snapshots[1]));
        await AssertPullsAsync(store, step200);
        await AssertPullsAsync(store, step100, "--step", "100");
    }

    [Fact(Timeout = 300_000)]
    public async Task A_third_push_deltas_against_a_plain_base_never_against_a_delta()
    {
        var (v1, v2, v3) = (Checkpoint("v1", 3), Nudged("v1", "v2", 4), Nudged("v2", "v3", 5));
        var store = _temp.Combine("store");
        await PushAsync(v1, store, 1);
        await PushAsync(v2, store, 2);
        await PushAsync(v3, store, 3);

        var (index, snapshots) = await ReadAsync(store);
        var third = ChunksOf(snapshots[2]).Where(c => Location(index, c).Codec == BlobCodec.Delta).ToList();
        Assert.NotEmpty(third);
        Assert.All(third, d => Assert.NotEqual(BlobCodec.Delta, Location(index, Location(index, d).Base!.Value.ToString()).Codec));
        // The second snapshot's deltas are not bases: the third deltas against their own bases, the first snapshot's chunks.
        Assert.Contains(third, d => ChunksOf(snapshots[0]).Contains(Location(index, d).Base!.Value.ToString()));
        await AssertPullsAsync(store, v3);
        await AssertPullsAsync(store, v2, "--step", "2");
    }

    [Fact(Timeout = 300_000)]
    public async Task A_file_whose_size_changed_is_cut_by_content_and_the_fast_setting_writes_no_deltas()
    {
        // The weights grew (another shape); the embedding, rewritten at its size, still becomes deltas in the same push.
        var v1 = Checkpoint("v1", 6);
        var v2 = Nudged("v1", "v2", 7);
        var weights = Path.Combine(v2, "model.f32");
        File.WriteAllBytes(weights, [.. File.ReadAllBytes(weights), .. new byte[4096]]);
        var alone = _temp.Combine("alone");
        Directory.CreateDirectory(alone);
        File.Copy(weights, Path.Combine(alone, "model.f32"));

        var store = _temp.Combine("store");
        var fresh = _temp.Combine("fresh");
        await PushAsync(v1, store, 1);
        await PushAsync(v2, store, 2);
        await PushAsync(alone, fresh, 2);

        var (index, snapshots) = await ReadAsync(store);
        var (_, byContent) = await ReadAsync(fresh);
        var grown = snapshots[1].Manifest.Entries.Single(e => e.Path == "model.f32").Chunks!;
        var embedding = snapshots[1].Manifest.Entries.Single(e => e.Path == "embedding.bf16").Chunks!;
        Assert.Equal(ChunksOf(byContent[0]), grown);
        Assert.DoesNotContain(grown, c => Location(index, c).Codec == BlobCodec.Delta);
        Assert.Contains(embedding, c => Location(index, c).Codec == BlobCodec.Delta);
        await AssertPullsAsync(store, v2);

        var nudged = Nudged("v1", "v3", 8);
        var fast = _temp.Combine("fast");
        await PushAsync(v1, fast, 1, "fast");
        await PushAsync(nudged, fast, 2, "fast");
        var (fastIndex, _) = await ReadAsync(fast);
        Assert.DoesNotContain(fastIndex.Blobs, b => b.Value.Entry.Codec == BlobCodec.Delta);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_delta_that_does_not_pay_is_stored_plain_at_the_parents_boundaries()
    {
        var v1 = Checkpoint("v1", 8);
        var v2 = Checkpoint("v2", 9); // the same sizes, other numbers: the XOR is as random as the chunk
        var store = _temp.Combine("store");
        await PushAsync(v1, store, 1);
        await PushAsync(v2, store, 2);

        var (index, snapshots) = await ReadAsync(store);
        Assert.DoesNotContain(index.Blobs, b => b.Value.Entry.Codec == BlobCodec.Delta);
        Assert.Equal(LengthsOf(index, snapshots[0]), LengthsOf(index, snapshots[1]));
        Assert.Empty(ChunksOf(snapshots[0]).Intersect(ChunksOf(snapshots[1])));
        await AssertPullsAsync(store, v2);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_base_whose_snapshot_was_pruned_stays_and_the_newer_snapshot_restores()
    {
        var (v1, v2) = (Checkpoint("v1", 10), Nudged("v1", "v2", 11));
        var store = _temp.Combine("store");
        await PushAsync(v1, store, 1);
        await PushAsync(v2, store, 2);

        var prune = await BatonCli.RunAsync(["prune", "--store", store, "--run", "r", "--keep-last", "1"]);

        Assert.True(prune.ExitCode == 0, prune.ToString());
        var (index, snapshots) = await ReadAsync(store);
        Assert.Single(snapshots);
        Assert.Contains(ChunksOf(snapshots[0]), c => Location(index, c).Codec == BlobCodec.Delta);
        await AssertPullsAsync(store, v2);
        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    [Fact(Timeout = 300_000)]
    public async Task A_corrupt_or_missing_base_is_an_integrity_error_naming_both_chunks()
    {
        var (v1, v2) = (Checkpoint("v1", 12), Nudged("v1", "v2", 13));
        var store = _temp.Combine("store");
        await PushAsync(v1, store, 1);
        await PushAsync(v2, store, 2);
        var (index, snapshots) = await ReadAsync(store);
        var delta = ChunksOf(snapshots[1]).First(c => Location(index, c).Codec == BlobCodec.Delta);
        var baseId = Location(index, delta).Base!.Value;
        index.TryGet(baseId, out var at);
        var pack = Path.Combine(store, RepositoryLayout.PackKey(at.PackId));

        var bytes = File.ReadAllBytes(pack);
        bytes[at.Entry.Offset + (at.Entry.Length / 2)] ^= 0x40;
        File.WriteAllBytes(pack, bytes);
        var corruptPull = await BatonCli.RunAsync(["pull", _temp.Combine("corrupt"), "--store", store, "--run", "r"]);
        var corruptCheck = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);

        File.Delete(pack);
        var missingPull = await BatonCli.RunAsync(["pull", _temp.Combine("missing"), "--store", store, "--run", "r"]);

        Cli.AssertOneLineError(corruptPull, 4, baseId.ToString(), "corrupt");
        Assert.True(corruptCheck.ExitCode == 4, corruptCheck.ToString());
        Assert.Contains($"is a delta of chunk {baseId}, which is corrupt", corruptCheck.StdOut + corruptCheck.StdErr, StringComparison.Ordinal);
        // The deleted pack held more than this base: whichever chunk of it the restore reaches first is named.
        Cli.AssertOneLineError(missingPull, 4, RepositoryLayout.PackKey(at.PackId), "missing");
        Assert.False(Directory.Exists(_temp.Combine("corrupt")) && Directory.EnumerateFileSystemEntries(_temp.Combine("corrupt")).Any());
    }

    [Fact(Timeout = 300_000)]
    public async Task The_independent_reader_restores_a_repository_with_deltas()
    {
        var (v1, v2) = (Checkpoint("v1", 14), Nudged("v1", "v2", 15));
        var store = _temp.Combine("store");
        await PushAsync(v1, store, 1);
        await PushAsync(v2, store, 2);
        var (index, _) = await ReadAsync(store);
        Assert.Contains(index.Blobs, b => b.Value.Entry.Codec == BlobCodec.Delta);

        foreach (var (expected, sequence) in new[] { (v2, "2"), (v1, "1") })
        {
            var target = _temp.Combine("read-" + sequence);
            var restore = await PythonReader.RunAsync("restore", store, "r", target, "--sequence", sequence);
            Assert.True(restore.ExitCode == 0, restore.ToString());
            TreeAssert.Same(expected, target);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task A_push_to_an_s3_store_stores_deltas_by_default_and_an_encrypted_folder_store_under_small()
    {
        var (v1, v2) = (Checkpoint("v1", 16), Nudged("v1", "v2", 17));
        var environment = Server.CliEnvironment();
        foreach (var (dir, step) in new[] { (v1, 1), (v2, 2) })
        {
            var push = await BatonCli.RunAsync(["push", dir, "--store", "s3://deltas/run", "--run", "r", "--step", $"{step}", "--quiet"], _temp.Path, environment);
            Assert.True(push.ExitCode == 0, push.ToString());
        }

        var pull = await BatonCli.RunAsync(["pull", _temp.Combine("pulled-s3"), "--store", "s3://deltas/run", "--run", "r", "--quiet"], _temp.Path, environment);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        TreeAssert.Same(v2, _temp.Combine("pulled-s3"));
        await using (var s3 = S3("deltas", "run"))
        {
            var repository = await Repository.OpenAsync(s3);
            Assert.Contains((await repository.LoadIndexAsync()).Blobs, b => b.Value.Entry.Codec == BlobCodec.Delta);
        }

        var password = _temp.Combine("password.txt");
        File.WriteAllText(password, "correct horse battery staple\n");
        var (sealedStore, sealedPlain) = (_temp.Combine("sealed"), _temp.Combine("sealed-plain"));
        foreach (var store in new[] { sealedStore, sealedPlain })
        {
            await Cli.SucceedAsync("init", "--store", store, "--password-file", password);
        }

        await PushAsync(v1, sealedStore, 1, Small, "--password-file", password);
        var before = DataBytes(sealedStore);
        await PushAsync(v2, sealedStore, 2, Small, "--password-file", password);
        await PushAsync(v2, sealedPlain, 2, Small, "--password-file", password);
        Assert.True(DataBytes(sealedStore) - before < DataBytes(sealedPlain) * 9 / 10, $"{DataBytes(sealedStore) - before} vs {DataBytes(sealedPlain)}");
        await Cli.SucceedAsync("pull", _temp.Combine("pulled-sealed"), "--store", sealedStore, "--run", "r", "--password-file", password, "--quiet");
        TreeAssert.Same(v2, _temp.Combine("pulled-sealed"));
        await Cli.SucceedAsync("check", "--store", sealedStore, "--read-data", "--password-file", password);
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

    private S3rver Server => _s3rver ?? throw new InvalidOperationException("s3rver is not running");

    private static Task PushAsync(string dir, string store, int step, string compression = Small, params string[] extra) =>
        Cli.PushAsync(dir, store, "r", ["--step", $"{step}", "--compression", compression, .. extra]);

    private async Task AssertPullsAsync(string store, string expected, params string[] extra)
    {
        var target = _temp.Combine("pulled-" + Guid.NewGuid().ToString("N")[..8]);
        await Cli.SucceedAsync(["pull", target, "--store", store, "--run", "r", "--quiet", .. extra]);
        TreeAssert.Same(expected, target);
    }

    // Several chunks per file at the default chunk sizes: float32 weights and a bfloat16 embedding.
    private string Checkpoint(string name, int seed)
    {
        var dir = _temp.Combine(name);
        FloatFiles.Write(Path.Combine(dir, "model.f32"), FloatFiles.Float32(seed, 2_500_000));
        FloatFiles.Write(Path.Combine(dir, "embedding.bf16"), FloatFiles.Bfloat16(seed + 100, 3_000_000));
        return dir;
    }

    // One training step later: every float32 weight moved by up to 0.1% (its low mantissa bits), one bfloat16 value
    // in ten by one unit in the last place.
    private string Nudged(string from, string name, int seed)
    {
        var random = new Random(seed);
        var dir = _temp.Combine(name);
        Directory.CreateDirectory(dir);
        var weights = File.ReadAllBytes(Path.Combine(_temp.Combine(from), "model.f32"));
        for (var i = 0; i < weights.Length; i += 4)
        {
            var value = BinaryPrimitives.ReadSingleLittleEndian(weights.AsSpan(i));
            BinaryPrimitives.WriteSingleLittleEndian(weights.AsSpan(i), value * (1 + (float)((random.NextDouble() - 0.5) * 2e-3)));
        }

        var embedding = File.ReadAllBytes(Path.Combine(_temp.Combine(from), "embedding.bf16"));
        for (var i = 0; i < embedding.Length; i += 2)
        {
            if (random.Next(10) == 0)
            {
                embedding[i] ^= 1;
            }
        }

        File.WriteAllBytes(Path.Combine(dir, "model.f32"), weights);
        File.WriteAllBytes(Path.Combine(dir, "embedding.bf16"), embedding);
        return dir;
    }

    private static long DataBytes(string store) =>
        Directory.EnumerateFiles(Path.Combine(store, "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static async Task<(MasterIndex Index, IReadOnlyList<Snapshot> Snapshots)> ReadAsync(string store)
    {
        await using var objects = new FolderStore(store);
        var repository = await Repository.OpenAsync(objects);
        return (await repository.LoadIndexAsync(), await repository.ListSnapshotsAsync("r"));
    }

    private static List<string> ChunksOf(Snapshot snapshot) =>
        [.. snapshot.Manifest.Entries.OrderBy(e => e.Path, StringComparer.Ordinal).SelectMany(e => e.Chunks ?? [])];

    private static List<int> LengthsOf(MasterIndex index, Snapshot snapshot) => [.. ChunksOf(snapshot).Select(c => Location(index, c).RawLength)];

    private static Packs.PackEntry Location(MasterIndex index, string chunk)
    {
        Assert.True(index.TryGet(ContentId.Parse(chunk), out var location), $"chunk {chunk} is not indexed");
        return location.Entry;
    }

    private S3Store S3(string bucket, string prefix) => new(new S3StoreOptions
    {
        Bucket = bucket,
        Prefix = prefix,
        Endpoint = Server.Endpoint,
        Region = "us-east-1",
        Credentials = new BasicAWSCredentials(S3rver.AccessKey, S3rver.SecretKey),
        AtomicCreate = false,
    });
}
