using Baton.Chunking;
using Baton.Compression;
using Baton.Packs;

namespace Baton.Bench.Measuring;

/// <summary>
/// Times each stage of the push pipeline alone, on one thread, over the files of a checkpoint: reading, chunking,
/// SHA-256, the codec trial, encoding, packing, and decoding. Says where a push's CPU time goes.
/// </summary>
internal static class StageProfile
{
    public static void Run(string directory, TextWriter log)
    {
        var chunker = new Chunker(ChunkerParameters.Default);
        var compressor = new BlobCompressor();
        var times = new Dictionary<string, TimeSpan>();
        var codecs = new Dictionary<BlobCodec, (long Raw, long Encoded, int Count)>();
        long total = 0;
        var encoded = new byte[BlobCompressor.MaxEncodedLength(ChunkerParameters.Default.MaxSize)];
        var decoded = new byte[ChunkerParameters.Default.MaxSize];
        using var pack = new PackBuilder(32 << 20);
        foreach (var file in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            var data = Time(times, "read (page cache)", () => File.ReadAllBytes(file));
            total += data.Length;
            var cuts = new List<(int Start, int Length)>();
            Time(times, "chunk (FastCDC)", () =>
            {
                for (var start = 0; start < data.Length;)
                {
                    var length = chunker.NextCut(data.AsSpan(start));
                    cuts.Add((start, length));
                    start += length;
                }

                return 0;
            });
            foreach (var (start, length) in cuts)
            {
                var raw = data.AsSpan(start, length);
                var id = Time(times, "hash (SHA-256)", () => ContentId.Compute(data.AsSpan(start, length)));
                Time(times, "codec trial (sample)", () => CodecProbe.Run(data.AsSpan(start, length), compressor.Level));
                var (codec, size) = Time(times, "encode (trial + codec)", () => compressor.Encode(data.AsSpan(start, length), encoded));
                var seen = codecs.GetValueOrDefault(codec);
                codecs[codec] = (seen.Raw + length, seen.Encoded + size, seen.Count + 1);
                Time(times, "pack (copy into pack)", () =>
                {
                    pack.Add(id, codec, encoded.AsSpan(0, size), length);
                    if (pack.IsFull)
                    {
                        pack.Seal().Dispose();
                    }

                    return 0;
                });
                Time(times, "decode (restore)", () =>
                {
                    BlobCompressor.Decode(codec, encoded.AsSpan(0, size), decoded.AsSpan(0, length));
                    return 0;
                });
                if (!decoded.AsSpan(0, length).SequenceEqual(raw))
                {
                    throw new InvalidOperationException("decode gave other bytes");
                }
            }
        }

        log.WriteLine($"stage profile over {total / 1048576.0:F0} MiB of {directory} (CPU time of one thread):");
        foreach (var (stage, time) in times)
        {
            log.WriteLine($"  {stage,-24} {time.TotalSeconds,7:F3} s  {total / 1048576.0 / time.TotalSeconds,8:F0} MiB/s");
        }

        foreach (var (codec, (raw, size, count)) in codecs)
        {
            log.WriteLine($"  codec {codec,-14} {count,5} chunks {raw / 1048576.0,9:F1} MiB -> {size / 1048576.0,9:F1} MiB ({(double)size / raw:F3})");
        }

    }

    // Thread CPU time, not wall time: on a shared machine other processes' load would otherwise be billed here.
    private static T Time<T>(Dictionary<string, TimeSpan> times, string stage, Func<T> action)
    {
        var start = ThreadCpu.Now();
        var result = action();
        times[stage] = times.GetValueOrDefault(stage) + (ThreadCpu.Now() - start);
        return result;
    }
}
