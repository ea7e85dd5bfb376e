using Baton.Compression;
using Baton.Testing;

namespace Baton.Tests.Format;

/// <summary>
/// The codecs as FORMAT.md describes them (implemented in tools/baton-read.py) decode the known-answer vectors in
/// tests/golden/vectors to what baton decodes them to: every float plane mode (raw, constant, Huffman, zstd, context rANS) and codec 4's segments included.
/// </summary>
public sealed class CodecSpecTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 300_000)]
    [InlineData("none", BlobCodec.None, 2000)]
    [InlineData("zstd", BlobCodec.Zstd, 1788)]
    [InlineData("float32-planes", BlobCodec.Float32Planes, 24003)]
    [InlineData("float32-modes", BlobCodec.Float32Planes, 20000)]
    [InlineData("bfloat16-planes", BlobCodec.Float16Planes, 20000)]
    [InlineData("float-segments", BlobCodec.FloatSegments, 40010)]
    public async Task The_codecs_of_the_spec_decode_the_vectors_as_baton_does(string name, BlobCodec codec, int rawLength)
    {
        var vector = Path.Combine(RepositoryRoot.Path, "tests", "golden", "vectors", name + ".bin");
        var expected = new byte[rawLength];
        BlobCompressor.Decode(codec, File.ReadAllBytes(vector), expected);

        var output = _temp.Combine(name + ".raw");
        var decode = await PythonReader.RunAsync("decode", $"{(int)codec}", $"{rawLength}", vector, output);
        Assert.True(decode.ExitCode == 0, decode.ToString());
        Assert.Equal(expected, File.ReadAllBytes(output));
    }

    [Fact(Timeout = 300_000)]
    public async Task The_delta_codec_of_the_spec_decodes_its_vector_against_its_base_as_baton_does()
    {
        var vectors = Path.Combine(RepositoryRoot.Path, "tests", "golden", "vectors");
        var (vector, baseRaw) = (Path.Combine(vectors, "delta.bin"), Path.Combine(vectors, "delta-base.raw"));
        var expected = new byte[16000];
        BlobCompressor.Decode(BlobCodec.Delta, File.ReadAllBytes(vector), expected, File.ReadAllBytes(baseRaw));

        var output = _temp.Combine("delta.raw");
        var decode = await PythonReader.RunAsync("decode", "5", "16000", vector, output, baseRaw);
        Assert.True(decode.ExitCode == 0, decode.ToString());
        Assert.Equal(expected, File.ReadAllBytes(output));

        // Against another base the XOR gives other bytes: the reader does use the base.
        var wrongBase = _temp.Combine("wrong-base.raw");
        File.WriteAllBytes(wrongBase, new byte[16000]);
        var wrong = await PythonReader.RunAsync("decode", "5", "16000", vector, _temp.Combine("wrong.raw"), wrongBase);
        Assert.True(wrong.ExitCode == 0, wrong.ToString());
        Assert.NotEqual(expected, File.ReadAllBytes(_temp.Combine("wrong.raw")));
    }

    [Fact(Timeout = 300_000)]
    public async Task The_codecs_of_the_spec_refuse_a_vector_cut_short()
    {
        var vector = File.ReadAllBytes(Path.Combine(RepositoryRoot.Path, "tests", "golden", "vectors", "float32-modes.bin"));
        var truncated = _temp.Combine("truncated.bin");
        File.WriteAllBytes(truncated, vector[..^1]);
        var decode = await PythonReader.RunAsync("decode", "2", "20000", truncated, _temp.Combine("out.raw"));
        Assert.True(decode.ExitCode == 1, decode.ToString());
    }

    public void Dispose() => _temp.Dispose();
}
