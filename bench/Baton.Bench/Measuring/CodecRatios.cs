using Baton.Chunking;
using Baton.Compression;

namespace Baton.Bench.Measuring;

/// <summary>
/// Stored bytes over raw bytes of real files, chunked as a push chunks them, under today's encoder, the codec 2/3
/// encoder it replaced (one alignment per chunk) and zstd -3, with encode and decode speeds in thread CPU time measured in
/// the same run (so their ratios hold on a loaded machine). With <c>--delta</c>, each file after the first of a
/// group is also XORed with the file before it (same length: consecutive checkpoints of one run) before encoding.
/// Usage: <c>baton-bench codecs [--delta] [--segments] NAME=PATH...</c>, PATH a file or a folder (its files in name
/// order); <c>--segments</c> also prints how the first 4 MiB of each input are cut into segments and times one 2 MiB
/// chunk three times.
/// </summary>
internal static class CodecRatios
{
    public static int Run(IReadOnlyList<string> arguments, TextWriter output)
    {
        var delta = arguments.Contains("--delta");
        output.WriteLine($"{"input",-28} {"raw MB",8} {"baton",7} {"codec2/3",8} {"zstd-3",7} {"xor+baton",9} | {"enc MB/s",9} {"old enc",8} {"zstd enc",8} | {"dec MB/s",9} {"old dec",8} {"zstd dec",8}");
        foreach (var argument in arguments.Where(a => !a.StartsWith("--", StringComparison.Ordinal)))
        {
            var (name, path) = argument.Split('=', 2) is [var n, var p] ? (n, p) : (Path.GetFileName(argument), argument);
            var files = Directory.Exists(path) ? Directory.GetFiles(path).Order(StringComparer.Ordinal).ToArray() : [path];
            var totals = new Totals();
            byte[]? previous = null;
            foreach (var file in files)
            {
                var bytes = File.ReadAllBytes(file);
                Measure(bytes, totals, previous is not null && previous.Length == bytes.Length && delta ? previous : null);
                previous = bytes;
            }

            if (arguments.Contains("--segments"))
            {
                var bytes = File.ReadAllBytes(files[0]);
                var segments = FloatSegmentCodec.Plan(bytes.AsSpan(0, Math.Min(bytes.Length, 4 << 20)));
                output.WriteLine($"{name}: first 4 MiB of {files[0]}: {segments.Count} segments, {segments.Count(s => s.Width == 4)} float32, {segments.Count(s => s.Width == 2)} 16-bit, {segments.Count(s => s.Width == 0)} raw");
                foreach (var group in segments.Take(40))
                {
                    output.Write($"{group.Width}:{group.Length} ");
                }

                output.WriteLine();
                var chunk = bytes.AsSpan(1 << 20, 2 << 20).ToArray();
                var encoded = new byte[BlobCompressor.MaxEncodedLength(chunk.Length)];
                var decoded = new byte[chunk.Length];
                var compressor = new BlobCompressor(3, CompressionChoice.Small);
                for (var round = 0; round < 3; round++)
                {
                    var clock = CpuClock.StartNew();
                    var (codec, length) = compressor.Encode(chunk, encoded);
                    var encode = clock.Elapsed.TotalMilliseconds;
                    clock.Restart();
                    BlobCompressor.Decode(codec, encoded.AsSpan(0, length), decoded);
                    var decode = clock.Elapsed.TotalMilliseconds;
                    clock.Restart();
                    var (oldCodec, oldLength) = EncodeAsBefore(chunk, encoded);
                    var oldEncode = clock.Elapsed.TotalMilliseconds;
                    clock.Restart();
                    BlobCompressor.Decode(oldCodec, encoded.AsSpan(0, oldLength), decoded);
                    output.WriteLine($"2 MiB chunk: new {codec} {length} enc {encode:F1} ms dec {decode:F1} ms; old {oldCodec} {oldLength} enc {oldEncode:F1} ms dec {clock.Elapsed.TotalMilliseconds:F1} ms");
                }
            }

            output.WriteLine(
                $"{name,-28} {totals.Raw / 1e6,8:F1} {Ratio(totals.Baton, totals.Raw),7} {Ratio(totals.Old, totals.Raw),8} {Ratio(totals.Zstd, totals.Raw),7} " +
                $"{(delta ? Ratio(totals.Delta, totals.Raw) : "-"),9} | {Speed(totals.Raw, totals.BatonEncode),9} {Speed(totals.Raw, totals.OldEncode),8} {Speed(totals.Raw, totals.ZstdEncode),8} | " +
                $"{Speed(totals.Raw, totals.BatonDecode),9} {Speed(totals.Raw, totals.OldDecode),8} {Speed(totals.Raw, totals.ZstdDecode),8}");
        }

        return 0;
    }

    private static void Measure(byte[] bytes, Totals totals, byte[]? previous)
    {
        var chunker = new Chunker(ChunkerParameters.Default);
        var compressor = new BlobCompressor(3, CompressionChoice.Small);
        var encoded = new byte[BlobCompressor.MaxEncodedLength(8 << 20) + 1024];
        var decoded = new byte[8 << 20];
        var xored = new byte[8 << 20];
        for (var start = 0; start < bytes.Length;)
        {
            var chunk = bytes.AsSpan(start, chunker.NextCut(bytes.AsSpan(start)));
            totals.Raw += chunk.Length;

            var clock = CpuClock.StartNew();
            var (codec, length) = compressor.Encode(chunk, encoded);
            totals.BatonEncode += clock.Elapsed;
            totals.Baton += length;
            clock.Restart();
            BlobCompressor.Decode(codec, encoded.AsSpan(0, length), decoded.AsSpan(0, chunk.Length));
            totals.BatonDecode += clock.Elapsed;
            if (!decoded.AsSpan(0, chunk.Length).SequenceEqual(chunk))
            {
                throw new InvalidOperationException("a chunk did not decode to its bytes");
            }

            clock.Restart();
            var (oldCodec, oldLength) = EncodeAsBefore(chunk, encoded);
            totals.OldEncode += clock.Elapsed;
            totals.Old += oldLength;
            clock.Restart();
            BlobCompressor.Decode(oldCodec, encoded.AsSpan(0, oldLength), decoded.AsSpan(0, chunk.Length));
            totals.OldDecode += clock.Elapsed;

            clock.Restart();
            var zstd = ZstdFrames.Compress(chunk, encoded, 3);
            totals.ZstdEncode += clock.Elapsed;
            totals.Zstd += zstd;
            clock.Restart();
            ZstdFrames.Decompress(encoded.AsSpan(0, zstd), decoded.AsSpan(0, chunk.Length));
            totals.ZstdDecode += clock.Elapsed;

            if (previous is not null)
            {
                var before = previous.AsSpan(start, chunk.Length);
                for (var i = 0; i < chunk.Length; i++)
                {
                    xored[i] = (byte)(chunk[i] ^ before[i]);
                }

                // Never more than plain compression: a delta that does not pay is not stored as one.
                totals.Delta += Math.Min(length, compressor.Encode(xored.AsSpan(0, chunk.Length), encoded).Length);
            }
            else
            {
                totals.Delta += length;
            }

            start += chunk.Length;
        }
    }

    // What the encoder wrote before codec 4: the probe's one alignment for the whole chunk, codec 2 or 3.
    private static (BlobCodec Codec, int Length) EncodeAsBefore(ReadOnlySpan<byte> chunk, Span<byte> destination)
    {
        if (chunk.Length >= CodecProbe.MinLength)
        {
            var probe = CodecProbe.Run(chunk, 3);
            if (probe.Codec is BlobCodec.Float32Planes or BlobCodec.Float16Planes)
            {
                var length = FloatPlaneCodec.Encode(chunk, probe.Codec == BlobCodec.Float32Planes ? 4 : 2, probe.Phase, destination, 3);
                if (length > 0 && length < chunk.Length - (chunk.Length / 64))
                {
                    return (probe.Codec, length);
                }

                chunk.CopyTo(destination);
                return (BlobCodec.None, chunk.Length);
            }
        }

        var zstd = ZstdFrames.Compress(chunk, destination, 3);
        if (zstd < chunk.Length - (chunk.Length / 32))
        {
            return (BlobCodec.Zstd, zstd);
        }

        chunk.CopyTo(destination);
        return (BlobCodec.None, chunk.Length);
    }

    private static string Ratio(long stored, long raw) => raw == 0 ? "-" : $"{(double)stored / raw:F4}";

    private static string Speed(long raw, TimeSpan time) => time <= TimeSpan.Zero ? "-" : $"{raw / 1e6 / time.TotalSeconds:F0}";

    // Thread CPU time rather than wall time: on a loaded machine the wall clock counts the time others ran.
    private sealed class CpuClock
    {
        private TimeSpan _start = ThreadCpu.Now();

        public TimeSpan Elapsed => ThreadCpu.Now() - _start;

        public static CpuClock StartNew() => new();

        public void Restart() => _start = ThreadCpu.Now();
    }

    private sealed class Totals
    {
        public long Raw { get; set; }

        public long Baton { get; set; }

        public long Old { get; set; }

        public long Zstd { get; set; }

        public long Delta { get; set; }

        public TimeSpan BatonEncode { get; set; }

        public TimeSpan BatonDecode { get; set; }

        public TimeSpan OldEncode { get; set; }

        public TimeSpan OldDecode { get; set; }

        public TimeSpan ZstdEncode { get; set; }

        public TimeSpan ZstdDecode { get; set; }
    }
}
