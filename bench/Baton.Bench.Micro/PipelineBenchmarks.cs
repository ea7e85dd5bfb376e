using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Baton.Chunking;
using Baton.Compression;
using Baton.Packs;

namespace Baton.Bench.Micro;

/// <summary>The other stages of a push, over 16 MiB of float32 data: chunking, hashing, packing.</summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private readonly Chunker _chunker = new(ChunkerParameters.Default);
    private byte[] _data = [];

    [GlobalSetup]
    public void Setup() => _data = MicroData.Float32(bytes: 16 << 20);

    [Benchmark]
    public int Chunk()
    {
        var cuts = 0;
        for (var start = 0; start < _data.Length; cuts++)
        {
            start += _chunker.NextCut(_data.AsSpan(start));
        }

        return cuts;
    }

    [Benchmark]
    public ContentId Sha256() => ContentId.Compute(_data);

    [Benchmark]
    public byte[] Sha256Incremental()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var start = 0; start < _data.Length; start += 1 << 20)
        {
            hash.AppendData(_data.AsSpan(start, 1 << 20));
        }

        return hash.GetHashAndReset();
    }

    [Benchmark]
    public int PackBuild()
    {
        using var builder = new PackBuilder(32 << 20);
        for (var start = 0; start < _data.Length; start += MicroData.ChunkSize)
        {
            builder.Add(ContentId.Compute(_data.AsSpan(start, 64)), BlobCodec.None, _data.AsSpan(start, MicroData.ChunkSize), MicroData.ChunkSize);
        }

        using var pack = builder.Seal();
        return pack.Length;
    }
}
