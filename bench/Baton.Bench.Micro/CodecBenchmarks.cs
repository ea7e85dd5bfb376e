using BenchmarkDotNet.Attributes;
using Baton.Compression;

namespace Baton.Bench.Micro;

/// <summary>Blob encoding and decoding of one 2 MiB chunk per kind of content.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly BlobCompressor _compressor = new();
    private byte[] _raw = [];
    private byte[] _encoded = [];
    private byte[] _decoded = [];
    private BlobCodec _codec;
    private int _length;

    [Params("float32", "bf16", "text", "random")]
    public string Content { get; set; } = "float32";

    [GlobalSetup]
    public void Setup()
    {
        _raw = Content switch
        {
            "float32" => MicroData.Float32(),
            "bf16" => MicroData.Bfloat16(),
            "text" => MicroData.Text(),
            _ => MicroData.Random(),
        };
        _encoded = new byte[BlobCompressor.MaxEncodedLength(_raw.Length)];
        _decoded = new byte[_raw.Length];
        (_codec, _length) = _compressor.Encode(_raw, _encoded);
    }

    [Benchmark]
    public int Encode() => _compressor.Encode(_raw, _encoded).Length;

    [Benchmark]
    public void Decode() => BlobCompressor.Decode(_codec, _encoded.AsSpan(0, _length), _decoded);

    [Benchmark]
    public BlobCodec Probe() => CodecProbe.Run(_raw, 3).Codec;

    [Benchmark]
    public int ZstdLevel3() => ZstdFrames.Compress(_raw, _encoded, 3);
}
