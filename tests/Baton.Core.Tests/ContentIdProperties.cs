using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests;

public sealed class ContentIdProperties
{
    private static readonly Arbitrary<byte[]> Digests = Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), ContentId.Size));

    [Property(MaxTest = 500)]
    public Property Formatting_then_parsing_gives_the_same_id() => Prop.ForAll(Digests, digest =>
    {
        var id = ContentId.FromBytes(digest);
        var text = id.ToString();
        Assert.Matches("^[0-9a-f]{64}$", text);
        Assert.Equal(Convert.ToHexStringLower(digest), text);
        Assert.Equal(id, ContentId.Parse(text));
        Assert.Equal(id, ContentId.Parse(text.ToUpperInvariant()));
        Assert.Equal(text[..16], id.ToShortString());
    });

    [Property(MaxTest = 500)]
    public Property Raw_bytes_round_trip() => Prop.ForAll(Digests, digest =>
    {
        var written = new byte[ContentId.Size];
        ContentId.FromBytes(digest).WriteTo(written);
        Assert.Equal(digest, written);
    });

    [Property(MaxTest = 500)]
    public Property Ids_order_as_their_bytes_do() => Prop.ForAll(Digests, Digests, (a, b) =>
    {
        var expected = Math.Sign(a.AsSpan().SequenceCompareTo(b));
        Assert.Equal(expected, Math.Sign(ContentId.FromBytes(a).CompareTo(ContentId.FromBytes(b))));
        Assert.Equal(expected == 0, ContentId.FromBytes(a) == ContentId.FromBytes(b));
    });

    [Property(MaxTest = 500)]
    public Property Text_that_is_not_64_hex_digits_is_refused() => Prop.ForAll(Arb.From(ArbMap.Default.GeneratorFor<string>()), text =>
    {
        var valid = text is { Length: 64 } && text.All(char.IsAsciiHexDigit);
        Assert.Equal(valid, ContentId.TryParse(text, out _));
        if (!valid)
        {
            Assert.Throws<FormatException>(() => ContentId.Parse(text!));
        }
    });

    [Theory]
    [InlineData("")]
    [InlineData("0123")]
    [InlineData("g000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData(" 000000000000000000000000000000000000000000000000000000000000000")]
    public void Malformed_ids_are_refused(string text) => Assert.False(ContentId.TryParse(text, out _));

    [Fact]
    public void Compute_is_sha256() =>
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ContentId.Compute("abc"u8).ToString());
}
