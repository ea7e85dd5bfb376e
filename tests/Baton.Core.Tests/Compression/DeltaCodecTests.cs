using Baton.Compression;
using Baton.Tests.Golden;

namespace Baton.Tests.Compression;

public sealed class DeltaCodecTests
{
    [Theory]
    [InlineData(CompressionChoice.Small)]
    [InlineData(CompressionChoice.Fast)]
    public void A_delta_chunk_decodes_to_the_chunk_given_its_base(CompressionChoice compression)
    {
        var (raw, baseRaw) = (KnownAnswerTests.Input("delta"), KnownAnswerTests.Input("delta-base"));
        var encoded = new byte[DeltaCodec.MaxEncodedLength(raw.Length)];
        var length = DeltaCodec.Encode(new BlobCompressor(3, compression), raw, ContentId.Compute(baseRaw), baseRaw, new byte[raw.Length], encoded);

        var decoded = new byte[raw.Length];
        BlobCompressor.Decode(BlobCodec.Delta, encoded.AsSpan(0, length), decoded, baseRaw);

        Assert.Equal(raw, decoded);
        Assert.Equal(ContentId.Compute(baseRaw), DeltaCodec.BaseOf(encoded));
    }

    [Fact]
    public void A_delta_of_random_bytes_against_random_bytes_round_trips()
    {
        var raw = KnownAnswerTests.Bytes(21, 70_001);
        var baseRaw = KnownAnswerTests.Bytes(22, 70_001);
        var encoded = new byte[DeltaCodec.MaxEncodedLength(raw.Length)];
        var length = DeltaCodec.Encode(new BlobCompressor(), raw, ContentId.Compute(baseRaw), baseRaw, new byte[raw.Length], encoded);

        var decoded = new byte[raw.Length];
        BlobCompressor.Decode(BlobCodec.Delta, encoded.AsSpan(0, length), decoded, baseRaw);

        Assert.Equal(raw, decoded);
        Assert.Equal((byte)BlobCodec.None, encoded[ContentId.Size]);
    }

    [Fact]
    public void A_delta_blob_is_refused_without_its_base_or_with_a_base_of_another_length()
    {
        var (raw, baseRaw) = (KnownAnswerTests.Input("delta"), KnownAnswerTests.Input("delta-base"));
        var encoded = new byte[DeltaCodec.MaxEncodedLength(raw.Length)];
        var length = DeltaCodec.Encode(new BlobCompressor(), raw, ContentId.Compute(baseRaw), baseRaw, new byte[raw.Length], encoded);
        var blob = encoded[..length];

        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(BlobCodec.Delta, blob, new byte[raw.Length]));
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(BlobCodec.Delta, blob, new byte[raw.Length], baseRaw.AsSpan(1)));
        Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(BlobCodec.Delta, blob[..20], new byte[raw.Length], baseRaw));
    }

    [Fact]
    public void A_delta_whose_inner_codec_is_a_delta_is_refused()
    {
        var (raw, baseRaw) = (KnownAnswerTests.Input("delta"), KnownAnswerTests.Input("delta-base"));
        var encoded = new byte[DeltaCodec.MaxEncodedLength(raw.Length)];
        var length = DeltaCodec.Encode(new BlobCompressor(), raw, ContentId.Compute(baseRaw), baseRaw, new byte[raw.Length], encoded);
        encoded[ContentId.Size] = (byte)BlobCodec.Delta;

        var e = Assert.Throws<InvalidDataException>(() => BlobCompressor.Decode(BlobCodec.Delta, encoded.AsSpan(0, length), new byte[raw.Length], baseRaw));
        Assert.Contains("one level", e.Message, StringComparison.Ordinal);
    }
}
