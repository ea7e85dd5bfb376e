using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Baton.Staging;

namespace Baton.Tests.Staging;

public sealed class ChecksumTests
{
    [Fact]
    public void Crc32c_matches_the_standard_check_value()
    {
        var crc = new Crc32C();
        crc.Append(Encoding.ASCII.GetBytes("123456789"));
        Assert.Equal(0xE3069283u, crc.Value);
    }

    [Fact]
    public void Crc32c_is_the_same_whatever_the_pieces()
    {
        var data = new byte[10_007];
        new Random(1).NextBytes(data);
        var whole = new Crc32C();
        whole.Append(data);
        var pieces = new Crc32C();
        foreach (var chunk in data.Chunk(13))
        {
            pieces.Append(chunk);
        }

        Assert.Equal(whole.Value, pieces.Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(4099)]
    public void Crc32c_agrees_with_the_bitwise_definition(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        var crc = new Crc32C();
        crc.Append(data);
        Assert.Equal(BitwiseCrc32C(data), crc.Value);
    }

    [Fact]
    public void X_goog_hash_gives_both_checksums()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("x-goog-hash", "crc32c=n03x6A==");
        response.Headers.TryAddWithoutValidation("x-goog-hash", "md5=" + Convert.ToBase64String(MD5.HashData("abc"u8.ToArray())));
        var digests = ExpectedDigests.FromHeaders(response.Headers, response.Content.Headers, wholeObject: false);
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72", digests.Md5);
        Assert.Equal("n03x6A==", digests.Crc32C);
    }

    [Fact]
    public void An_etag_is_taken_for_an_md5_only_from_an_object_store()
    {
        const string Hex = "\"900150983cd24fb0d6963f7d28e17f72\"";
        using var plain = new HttpResponseMessage();
        plain.Headers.ETag = new EntityTagHeaderValue(Hex);
        Assert.Null(ExpectedDigests.FromHeaders(plain.Headers, plain.Content.Headers, wholeObject: true).Md5);

        using var s3 = new HttpResponseMessage();
        s3.Headers.ETag = new EntityTagHeaderValue(Hex);
        s3.Headers.TryAddWithoutValidation("x-amz-request-id", "1");
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72", ExpectedDigests.FromHeaders(s3.Headers, s3.Content.Headers, wholeObject: true).Md5);

        using var multipart = new HttpResponseMessage();
        multipart.Headers.ETag = new EntityTagHeaderValue("\"900150983cd24fb0d6963f7d28e17f72-3\"");
        multipart.Headers.TryAddWithoutValidation("x-amz-request-id", "1");
        Assert.Null(ExpectedDigests.FromHeaders(multipart.Headers, multipart.Content.Headers, wholeObject: true).Md5);
    }

    [Fact]
    public void A_mismatch_names_the_source_and_both_values()
    {
        var expected = new ExpectedDigests("00000000000000000000000000000000", null);
        var error = Assert.Throws<IntegrityException>(() => expected.Verify(new ComputedDigests(new string('a', 64), "900150983cd24fb0d6963f7d28e17f72", null), "https://x/y"));
        Assert.Contains("https://x/y", error.Message, StringComparison.Ordinal);
        Assert.Contains("900150983cd24fb0d6963f7d28e17f72", error.Message, StringComparison.Ordinal);
    }

    // The polynomial applied one bit at a time (reflected 0x1EDC6F41), the definition the fast path must match.
    private static uint BitwiseCrc32C(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
