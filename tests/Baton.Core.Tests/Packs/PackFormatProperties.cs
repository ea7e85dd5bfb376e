using Baton.Compression;
using Baton.Encryption;
using Baton.Packs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests.Packs;

public sealed class PackFormatProperties
{
    private static readonly Gen<(ContentId Id, BlobCodec Codec, byte[] Encoded, int RawLength)> Blob =
        from length in Gen.Choose(0, 5000)
        from seed in ArbMap.Default.GeneratorFor<int>()
        from codec in Gen.Elements(BlobCodec.None, BlobCodec.Zstd)
        from rawLength in Gen.Choose(0, 1 << 24)
        let encoded = Bytes(length, seed)
        select (ContentId.Compute(encoded.Append((byte)codec).ToArray()), codec, encoded, rawLength);

    private static readonly Gen<List<(ContentId Id, BlobCodec Codec, byte[] Encoded, int RawLength)>> Blobs =
        Gen.Choose(0, 60).SelectMany(n => Gen.ListOf(Blob, n)).Select(l => l.ToList());

    [Property(MaxTest = 200)]
    public Property A_sealed_pack_parses_back_to_its_blobs() => Prop.ForAll(Arb.From(Blobs), Arb.From(Gen.Choose(1, 100_000)), (blobs, target) =>
    {
        using var builder = new PackBuilder(target);
        foreach (var blob in blobs)
        {
            builder.Add(blob.Id, blob.Codec, blob.Encoded, blob.RawLength);
        }

        using var pack = builder.Seal();
        AssertParsesTo(pack, blobs);
        Assert.Equal(0, builder.Count);
    });

    [Property(MaxTest = 100)]
    public Property A_builder_reused_after_sealing_starts_a_clean_pack() => Prop.ForAll(Arb.From(Blobs), Arb.From(Blobs), (first, second) =>
    {
        using var builder = new PackBuilder(4096);
        foreach (var blob in first)
        {
            builder.Add(blob.Id, blob.Codec, blob.Encoded, blob.RawLength);
        }

        using var firstPack = builder.Seal();
        foreach (var blob in second)
        {
            builder.Add(blob.Id, blob.Codec, blob.Encoded, blob.RawLength);
        }

        using var secondPack = builder.Seal();
        AssertParsesTo(firstPack, first);
        AssertParsesTo(secondPack, second);
    });

    [Fact]
    public void A_pack_is_full_once_it_reaches_its_target_size()
    {
        using var builder = new PackBuilder(10_000);
        builder.Add(ContentId.Compute([1]), BlobCodec.None, new byte[5000], 5000);
        Assert.False(builder.IsFull);
        builder.Add(ContentId.Compute([2]), BlobCodec.None, new byte[5000], 5000);
        Assert.True(builder.IsFull);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void A_damaged_trailer_or_header_is_invalid_data(int damage)
    {
        using var builder = new PackBuilder(1000);
        builder.Add(ContentId.Compute([1]), BlobCodec.None, new byte[100], 100);
        builder.Add(ContentId.Compute([2]), BlobCodec.Zstd, new byte[50], 500);
        using var pack = builder.Seal();
        var bytes = pack.Bytes.ToArray();
        switch (damage)
        {
            case 0: // magic at the end
                bytes[^1] ^= 1;
                Assert.Throws<InvalidDataException>(() => PackFormat.ReadBlobCount(bytes.AsSpan(bytes.Length - PackFormat.TrailerSize)));
                break;
            case 1: // an encoded length in the header
                var header = bytes.Length - PackFormat.TrailerSize - (2 * PackFormat.RecordSize);
                bytes[header + ContentId.Size + 1] ^= 1;
                Assert.Throws<InvalidDataException>(() => PackFormat.ReadHeader(bytes.AsSpan(header, 2 * PackFormat.RecordSize), bytes.Length));
                break;
            default: // a header cut short
                Assert.Throws<InvalidDataException>(() => PackFormat.ReadHeader(bytes.AsSpan(0, PackFormat.RecordSize - damage), bytes.Length));
                break;
        }
    }

    [Property(MaxTest = 200)]
    public Property Pack_keys_round_trip() => Prop.ForAll(Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), ContentId.Size)), digest =>
    {
        var id = ContentId.FromBytes(digest);
        var key = PackFormat.KeyOf(id);
        Assert.Equal($"data/{id.ToString()[..2]}/{id}", key);
        Assert.True(PackFormat.TryParseKey(key, out var parsed));
        Assert.Equal(id, parsed);
        Assert.False(PackFormat.TryParseKey("index/" + id, out _));
    });

    private static void AssertParsesTo(SealedPack pack, List<(ContentId Id, BlobCodec Codec, byte[] Encoded, int RawLength)> blobs)
    {
        var bytes = pack.Bytes.Span;
        Assert.Equal(pack.Length, bytes.Length);
        Assert.Equal(PackFormat.IdOf(bytes, PlaintextCipher.Instance), pack.Id);
        Assert.True(bytes[..8].SequenceEqual(PackFormat.Magic));
        var count = PackFormat.ReadBlobCount(bytes[^PackFormat.TrailerSize..]);
        Assert.Equal(blobs.Count, count);
        var headerStart = bytes.Length - PackFormat.TrailerSize - (count * PackFormat.RecordSize);
        var entries = PackFormat.ReadHeader(bytes.Slice(headerStart, count * PackFormat.RecordSize), bytes.Length);
        Assert.Equal(pack.Entries, entries);
        for (var i = 0; i < blobs.Count; i++)
        {
            Assert.Equal(blobs[i].Id, entries[i].Id);
            Assert.Equal(blobs[i].Codec, entries[i].Codec);
            Assert.Equal(blobs[i].RawLength, entries[i].RawLength);
            Assert.True(bytes.Slice((int)entries[i].Offset, entries[i].Length).SequenceEqual(blobs[i].Encoded), $"blob {i} bytes differ");
        }
    }

    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
