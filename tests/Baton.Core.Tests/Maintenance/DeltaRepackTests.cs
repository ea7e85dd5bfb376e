using System.Buffers.Binary;
using Baton.Compression;
using Baton.Maintenance;
using Baton.Snapshots;
using Baton.Testing;

namespace Baton.Tests.Maintenance;

/// <summary>A repack moves codec-5 blobs with their base in the index, and checks each against its base on the way.</summary>
public sealed class DeltaRepackTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task A_repack_carries_each_deltas_base_into_the_new_index_entry_and_refuses_a_corrupt_base()
    {
        var store = _temp.Combine("store");
        var repository = await TestRepositories.CreateAsync(store);
        var (v1, v2) = (_temp.Combine("v1"), _temp.Combine("v2"));
        var weights = Weights(1, 400_000);
        Write(v1, weights);
        Write(v2, Nudge(weights, 2));
        await repository.PushAsync(v1, "r", new PushOptions { Step = 1, Compression = CompressionChoice.Small });
        await repository.PushAsync(v2, "r", new PushOptions { Step = 2, Compression = CompressionChoice.Small });
        var packs = (await repository.ReadAllIndexFilesAsync()).Values.SelectMany(f => f.Packs).ToList();
        var withDeltas = packs.First(p => p.Blobs.Any(b => b.Codec == BlobCodec.Delta));
        var bases = withDeltas.Blobs.Where(b => b.Codec == BlobCodec.Delta).ToDictionary(b => b.Id, b => b.Base);

        var outcome = await new Repacker(repository).CopyAsync([new RepackSource(ContentId.Parse(withDeltas.Id), withDeltas.Blobs)], CancellationToken.None);

        var copied = outcome.Packs.SelectMany(p => p.Blobs).Where(b => b.Codec == BlobCodec.Delta).ToDictionary(b => b.Id, b => b.Base);
        Assert.NotEmpty(copied);
        Assert.Equal(bases.OrderBy(b => b.Key), copied.OrderBy(b => b.Key));

        // The base of the first delta, altered in its pack: the repack stops before anything is deleted.
        var index = await repository.LoadIndexAsync();
        index.TryGet(ContentId.Parse(bases.First().Value!), out var at);
        var pack = Path.Combine(store, RepositoryLayout.PackKey(at.PackId));
        var bytes = File.ReadAllBytes(pack);
        bytes[at.Entry.Offset + (at.Entry.Length / 2)] ^= 0x10;
        File.WriteAllBytes(pack, bytes);
        var error = await Assert.ThrowsAsync<IntegrityException>(() =>
            new Repacker(repository).CopyAsync([new RepackSource(ContentId.Parse(withDeltas.Id), withDeltas.Blobs)], CancellationToken.None));
        Assert.Contains("repack stopped before deleting anything", error.Message, StringComparison.Ordinal);
        Assert.Contains(bases.First().Value!, error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private static void Write(string dir, byte[] weights)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "model.f32"), weights);
    }

    internal static byte[] Weights(int seed, int count)
    {
        var random = new Random(seed);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), (float)(normal * 0.05));
        }

        return bytes;
    }

    // One training step: each weight moved by up to 0.1%.
    internal static byte[] Nudge(byte[] weights, int seed)
    {
        var random = new Random(seed);
        var moved = weights.ToArray();
        for (var i = 0; i < moved.Length; i += 4)
        {
            var value = BinaryPrimitives.ReadSingleLittleEndian(moved.AsSpan(i));
            BinaryPrimitives.WriteSingleLittleEndian(moved.AsSpan(i), value * (1 + (float)((random.NextDouble() - 0.5) * 2e-3)));
        }

        return moved;
    }
}
