using BenchmarkDotNet.Attributes;
using Baton.Compression;

namespace Baton.Bench.Micro;

/// <summary>Codec 4 (float segments, <c>--compression small</c>) encoding and decoding one 2 MiB chunk of floats.</summary>
[MemoryDiagnoser]
public class FloatSegmentBenchmarks
{
    private readonly BlobCompressor _compressor = new(3, CompressionChoice.Small);
    private byte[] _raw = [];
    private byte[] _encoded = [];
    private byte[] _decoded = [];
    private BlobCodec _codec;
    private int _length;

    [Params("float32", "bf16")]
    public string Content { get; set; } = "float32";

    [GlobalSetup]
    public void Setup()
    {
        _raw = Content == "float32" ? MicroData.Float32() : MicroData.Bfloat16();
        _encoded = new byte[BlobCompressor.MaxEncodedLength(_raw.Length)];
        _decoded = new byte[_raw.Length];
        (_codec, _length) = _compressor.Encode(_raw, _encoded);
        if (_codec != BlobCodec.FloatSegments)
        {
            throw new InvalidOperationException($"the {Content} chunk was coded as {_codec}, not as float segments");
        }
    }

    [Benchmark]
    public int Encode() => _compressor.Encode(_raw, _encoded).Length;

    [Benchmark]
    public void Decode() => BlobCompressor.Decode(_codec, _encoded.AsSpan(0, _length), _decoded);
}
