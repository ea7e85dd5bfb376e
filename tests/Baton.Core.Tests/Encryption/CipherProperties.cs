using System.Security.Cryptography;
using Baton.Chunking;
using Baton.Compression;
using Baton.Encryption;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests.Encryption;

public sealed class CipherProperties
{
    private static readonly AesGcmCipher s_cipher = TestKeys.NewCipher();

    [Property(MaxTest = 200)]
    public Property Sealing_then_opening_gives_back_the_bytes(byte[] plaintext, SealedKind kind)
    {
        var opened = Open(kind, Seal(kind, plaintext));
        return opened.AsSpan().SequenceEqual(plaintext).ToProperty();
    }

    [Property(MaxTest = 200)]
    public Property Any_flipped_bit_of_a_sealed_object_is_detected(NonEmptyArray<byte> plaintext, PositiveInt position, SealedKind kind)
    {
        var sealedData = Seal(kind, plaintext.Get);
        var bit = position.Get % (sealedData.Length * 8);
        sealedData[bit / 8] ^= (byte)(1 << (bit % 8));
        return Throws(() => Open(kind, sealedData)).ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property A_truncated_sealed_object_is_detected(NonEmptyArray<byte> plaintext, PositiveInt cut)
    {
        var sealedData = Seal(SealedKind.Blob, plaintext.Get);
        var shorter = sealedData[..(cut.Get % sealedData.Length)];
        return Throws(() => Open(SealedKind.Blob, shorter)).ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property An_object_sealed_as_one_kind_does_not_open_as_another(byte[] plaintext)
    {
        var blob = Seal(SealedKind.Blob, plaintext);
        return (Throws(() => Open(SealedKind.Metadata, blob)) && Throws(() => Open(SealedKind.PackHeader, blob))).ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property Sealing_the_same_bytes_twice_gives_different_bytes(NonEmptyArray<byte> plaintext) =>
        (!Seal(SealedKind.Blob, plaintext.Get).AsSpan().SequenceEqual(Seal(SealedKind.Blob, plaintext.Get))).ToProperty();

    [Property(MaxTest = 100)]
    public Property Chunk_ids_are_keyed_deterministic_and_not_plain_sha256(byte[] content)
    {
        var other = TestKeys.NewCipher();
        var id = s_cipher.ChunkId(content);
        return (id == s_cipher.ChunkId(content) && id != other.ChunkId(content) && id != ContentId.Compute(content)
            && PlaintextCipher.Instance.ChunkId(content) == ContentId.Compute(content)).ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property Names_in_keys_are_keyed_hex_that_is_itself_a_valid_run_name(NonEmptyString name)
    {
        var keyed = s_cipher.NameInKeys(name.Get);
        return (keyed.Length == 32 && keyed.All(char.IsAsciiHexDigitLower) && keyed == s_cipher.NameInKeys(name.Get)
            && keyed != TestKeys.NewCipher().NameInKeys(name.Get) && keyed != name.Get).ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property A_sealed_blob_decodes_to_its_raw_bytes_whatever_the_codec(byte[] raw)
    {
        var encoded = new byte[BlobCompressor.MaxEncodedLength(raw.Length)];
        var (codec, length) = new BlobCompressor().Encode(raw, encoded);
        var stored = Seal(SealedKind.Blob, encoded[..length]);
        var decoded = new byte[raw.Length];
        s_cipher.DecodeBlob(codec, stored, decoded);
        return decoded.AsSpan().SequenceEqual(raw).ToProperty();
    }

    [Fact]
    public void The_plaintext_cipher_is_the_identity()
    {
        var cipher = PlaintextCipher.Instance;
        var data = RandomNumberGenerator.GetBytes(100);
        var sealedData = new byte[100];
        cipher.Seal(SealedKind.Blob, data, sealedData);
        Assert.False(cipher.IsEncrypted);
        Assert.Equal(0, cipher.Overhead);
        Assert.Equal(data, sealedData);
        Assert.Equal("run-1", cipher.NameInKeys("run-1"));
        Assert.Equal(42UL, cipher.Chunker(new ChunkerParameters(64, 128, 256, 42)).Seed);
    }

    [Fact]
    public void The_chunker_seed_comes_from_the_key_not_the_config()
    {
        var stored = new ChunkerParameters(64, 128, 256, 0);
        Assert.NotEqual(0UL, s_cipher.Chunker(stored).Seed);
        Assert.Equal(s_cipher.Chunker(stored).Seed, s_cipher.Chunker(stored with { Seed = 5 }).Seed);
        Assert.NotEqual(s_cipher.Chunker(stored).Seed, TestKeys.NewCipher().Chunker(stored).Seed);
    }

    private static byte[] Seal(SealedKind kind, byte[] plaintext)
    {
        var sealedData = new byte[plaintext.Length + s_cipher.Overhead];
        Assert.Equal(sealedData.Length, s_cipher.Seal(kind, plaintext, sealedData));
        return sealedData;
    }

    private static byte[] Open(SealedKind kind, byte[] sealedData)
    {
        var opened = new byte[Math.Max(0, sealedData.Length - s_cipher.Overhead)];
        s_cipher.Open(kind, sealedData, opened);
        return opened;
    }

    private static bool Throws(Action action)
    {
        try
        {
            action();
            return false;
        }
        catch (InvalidDataException)
        {
            return true;
        }
    }
}
