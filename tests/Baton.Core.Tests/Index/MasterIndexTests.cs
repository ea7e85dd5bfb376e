using Baton.Compression;
using Baton.Index;
using Baton.Packs;

namespace Baton.Tests.Index;

public sealed class MasterIndexTests
{
    private static readonly ContentId Lost = ContentId.Compute("lost pack"u8);
    private static readonly ContentId Kept = ContentId.Compute("kept pack"u8);
    private static readonly ContentId Blob = ContentId.Compute("blob"u8);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_blob_indexed_in_a_lost_and_a_stored_pack_is_found_in_the_stored_one_whatever_the_order(bool lostFirst)
    {
        var index = new MasterIndex(new Dictionary<ContentId, long> { [Kept] = 100 });
        var packs = lostFirst ? new[] { Lost, Kept } : [Kept, Lost];

        foreach (var pack in packs)
        {
            index.Add(pack, 100, [new PackEntry(Blob, 8, 20, 40, BlobCodec.Zstd)]);
        }

        Assert.True(index.TryGet(Blob, out var location));
        Assert.Equal(Kept, location.PackId);
        Assert.True(index.IsStored(Blob));
    }

    [Fact]
    public void A_blob_only_in_a_missing_or_truncated_pack_is_indexed_but_not_stored()
    {
        var index = new MasterIndex(new Dictionary<ContentId, long> { [Kept] = 99 });

        index.Add(Lost, 100, [new PackEntry(Blob, 8, 20, 40, BlobCodec.Zstd)]);
        index.Add(Kept, 100, [new PackEntry(ContentId.Compute("other"u8), 8, 20, 40, BlobCodec.Zstd)]);

        Assert.True(index.Contains(Blob));
        Assert.False(index.IsStored(Blob));
        Assert.False(index.HoldsPack(Kept));
    }

    [Fact]
    public void Without_a_listing_every_indexed_pack_counts_as_stored()
    {
        var index = new MasterIndex();

        index.Add(Lost, 100, [new PackEntry(Blob, 8, 20, 40, BlobCodec.Zstd)]);

        Assert.True(index.IsStored(Blob));
    }
}
