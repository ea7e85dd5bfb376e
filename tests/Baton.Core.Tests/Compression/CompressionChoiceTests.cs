using Baton.Compression;
using Baton.Runs;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Decorators;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Compression;

/// <summary>
/// The compression setting picks the codec of float data: fast writes codecs 2 and 3 (what the encoder wrote before
/// codec 4), small writes codec 4, auto decides by the store; each decodes back to its input, and a restore reads
/// every codec whatever the setting of the push that wrote it.
/// </summary>
public sealed class CompressionChoiceTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory]
    [InlineData(CompressionChoice.Fast, BlobCodec.Float32Planes, BlobCodec.Float16Planes)]
    [InlineData(CompressionChoice.Auto, BlobCodec.Float32Planes, BlobCodec.Float16Planes)]
    [InlineData(CompressionChoice.Small, BlobCodec.FloatSegments, BlobCodec.FloatSegments)]
    public void The_setting_picks_the_codec_of_float_data_and_each_decodes_to_its_input(CompressionChoice choice, BlobCodec float32, BlobCodec bfloat16)
    {
        var compressor = new BlobCompressor(3, choice);
        foreach (var (raw, expected) in new[]
        {
            (FloatData.Frame(FloatData.Float32(1, 200_000, specialShare: 0.01), leading: 3, trailing: 1, seed: 1), float32),
            (FloatData.Frame(FloatData.Bfloat16(2, 300_000, specialShare: 0.01), leading: 1, trailing: 1, seed: 2), bfloat16),
        })
        {
            var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
            var (codec, length) = compressor.Encode(raw, encoded);
            Assert.Equal(expected, codec);
            var decoded = new byte[raw.Length];
            BlobCompressor.Decode(codec, encoded.AsSpan(0, length), decoded);
            Assert.Equal(raw, decoded);
        }
    }

    [Fact]
    public void Fast_writes_exactly_what_the_plane_codec_writes_and_small_writes_fewer_bytes()
    {
        var raw = FloatData.Frame(FloatData.Float32(3, 250_000, specialShare: 0), leading: 2, trailing: 3, seed: 3);
        var fast = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var small = new byte[fast.Length];
        var planes = new byte[fast.Length];

        var (_, fastLength) = new BlobCompressor(3, CompressionChoice.Fast).Encode(raw, fast);
        var (_, smallLength) = new BlobCompressor(3, CompressionChoice.Small).Encode(raw, small);
        var planeLength = FloatPlaneCodec.Encode(raw, 4, fast[1], planes, 3);

        Assert.Equal(planes[..planeLength], fast[..fastLength]);
        Assert.True(smallLength < fastLength, $"small {smallLength} bytes, fast {fastLength}");
    }

    [Theory]
    [InlineData("auto", CompressionChoice.Auto)]
    [InlineData("FAST", CompressionChoice.Fast)]
    [InlineData(" small ", CompressionChoice.Small)]
    [InlineData("smallest", null)]
    [InlineData("", null)]
    public void Names_parse_to_their_choice_and_nothing_else_does(string name, CompressionChoice? expected) =>
        Assert.Equal(expected, CompressionChoices.TryParse(name));

    [Theory(Timeout = 120_000)]
    [InlineData(CompressionChoice.Auto, true, false)]
    [InlineData(CompressionChoice.Fast, true, false)]
    [InlineData(CompressionChoice.Small, true, true)]
    [InlineData(CompressionChoice.Auto, false, true)]
    [InlineData(CompressionChoice.Fast, false, false)]
    public async Task A_push_writes_the_codec_of_its_setting_and_store_and_restores_either(CompressionChoice choice, bool local, bool segments)
    {
        var folder = new FolderStore(_temp.Combine("store"));
        await using IObjectStore store = local ? folder : new NetworkLike(folder);
        var repository = await TestRepositories.CreateAsync(store);
        var source = _temp.Combine("src");
        Directory.CreateDirectory(source);
        await File.WriteAllBytesAsync(Path.Combine(source, "model.f32"), FloatData.Float32(4, 400_000, specialShare: 0));
        await File.WriteAllBytesAsync(Path.Combine(source, "embedding.bf16"), FloatData.Bfloat16(5, 400_000, specialShare: 0));

        var snapshot = await repository.PushAsync(source, "r", new PushOptions { Compression = choice });

        var codecs = (await repository.LoadIndexAsync()).Blobs.Select(b => b.Value.Entry.Codec).ToHashSet();
        Assert.Equal(segments ? [BlobCodec.FloatSegments] : new HashSet<BlobCodec> { BlobCodec.Float32Planes, BlobCodec.Float16Planes },
            codecs.Where(c => c is not (BlobCodec.None or BlobCodec.Zstd)).ToHashSet());
        var target = _temp.Combine("restored");
        await repository.RestoreAsync(snapshot, target);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, "model.f32")), await File.ReadAllBytesAsync(Path.Combine(target, "model.f32")));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, "embedding.bf16")), await File.ReadAllBytesAsync(Path.Combine(target, "embedding.bf16")));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_run_pushed_fast_then_small_restores_each_snapshot()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var first = _temp.Combine("first");
        var second = _temp.Combine("second");
        Directory.CreateDirectory(first);
        Directory.CreateDirectory(second);
        await File.WriteAllBytesAsync(Path.Combine(first, "model.f32"), FloatData.Float32(6, 300_000, specialShare: 0));
        await File.WriteAllBytesAsync(Path.Combine(second, "model.f32"), FloatData.Float32(7, 300_000, specialShare: 0));

        var fast = await repository.PushAsync(first, "r", new PushOptions { Compression = CompressionChoice.Fast });
        var small = await repository.PushAsync(second, "r", new PushOptions { Compression = CompressionChoice.Small });

        var codecs = (await repository.LoadIndexAsync()).Blobs.Select(b => b.Value.Entry.Codec).ToHashSet();
        Assert.Contains(BlobCodec.Float32Planes, codecs);
        Assert.Contains(BlobCodec.FloatSegments, codecs);
        foreach (var (snapshot, source) in new[] { (fast, first), (small, second) })
        {
            var target = _temp.Combine("restored-" + Path.GetFileName(source));
            await repository.RestoreAsync(snapshot, target);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, "model.f32")), await File.ReadAllBytesAsync(Path.Combine(target, "model.f32")));
        }
    }

    [Theory(Timeout = 120_000)]
    [InlineData(CompressionChoice.Small, true)]
    [InlineData(CompressionChoice.Fast, false)]
    public async Task A_training_run_writes_the_codec_of_its_setting_in_foreground_and_background_snapshots(CompressionChoice choice, bool segments)
    {
        var store = new FolderStore(_temp.Combine("store"));
        var source = _temp.Combine("ckpt");
        Directory.CreateDirectory(source);
        await File.WriteAllBytesAsync(Path.Combine(source, "model.f32"), FloatData.Float32(8, 300_000, specialShare: 0));
        await using var run = await TrainingRun.OpenAsync(store, "r", new TrainingRunOptions { Compression = choice });

        await run.SnapshotAsync(source, 1);
        await File.WriteAllBytesAsync(Path.Combine(source, "model.f32"), FloatData.Float32(9, 300_000, specialShare: 0));
        Assert.NotNull(await run.SnapshotInBackground(source, 2));

        var codecs = (await run.Repository.LoadIndexAsync()).Blobs.Select(b => b.Value.Entry.Codec).Where(c => c is not (BlobCodec.None or BlobCodec.Zstd)).ToList();
        Assert.Equal(2, codecs.Count);
        Assert.All(codecs, codec => Assert.Equal(segments ? BlobCodec.FloatSegments : BlobCodec.Float32Planes, codec));
    }

    public void Dispose() => _temp.Dispose();

    // A store that is not local (as an S3, Azure, SFTP or rclone store): the same folder underneath.
    private sealed class NetworkLike(IObjectStore inner) : ObjectStoreDecorator(inner)
    {
        public override StoreCapabilities Capabilities => Inner.Capabilities with { Local = false };
    }
}
