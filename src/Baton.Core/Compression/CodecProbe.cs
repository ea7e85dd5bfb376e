using System.Runtime.CompilerServices;

namespace Baton.Compression;

/// <summary>What a trial on a sample of a blob suggests.</summary>
/// <param name="Codec">The codec to use.</param>
/// <param name="Phase">For the float codecs: where the first whole value starts.</param>
internal readonly record struct ProbeResult(BlobCodec Codec, int Phase);

/// <summary>
/// Decides cheaply how to encode a blob by trying a few spread windows of it: the order-0 entropy of the exponent
/// byte under every float32 and 16-bit alignment (float weights have exponents of 2 to 4 bits of entropy where
/// other bytes have close to 8) against zstd on the same sample (which wins on runs and repeated text). Data that
/// neither shrinks is stored raw without spending a full compression pass on it.
/// </summary>
internal static class CodecProbe
{
    /// <summary>Blobs shorter than this go straight to zstd: the sample would be the whole blob anyway.</summary>
    public const int MinLength = 16 * 1024;

    private const int Windows = 4;
    private const int WindowSize = 4 * 1024;

    // Below this estimated ratio a codec is worth running at all.
    private const double WorthCompressing = 0.97;

    // The float codec must beat zstd's sample ratio by this much: its estimate ignores LZ matches zstd would find.
    private const double FloatMargin = 0.01;

    public static ProbeResult Run(ReadOnlySpan<byte> raw, int zstdLevel)
    {
        var sampleLength = Math.Min(raw.Length, Windows * WindowSize);
        var sample = CodecScratch.Pool.Rent(sampleLength + ZstdFrames.MaxLength(sampleLength));
        try
        {
            var taken = sample.AsSpan(0, sampleLength);
            TakeSample(raw, taken);
            var windowLength = sampleLength == raw.Length ? sampleLength : WindowSize;
            var (floatRatio, codec, phase) = BestFloatLayout(taken, windowLength);
            Span<long> histogram = stackalloc long[256];
            ByteHistogram.Count(taken, histogram);
            var byteRatio = ByteHistogram.Entropy(histogram, sampleLength) / 8;

            // Dense binary data without repeated words gives zstd nothing to match, so its ratio would be its order-0
            // entropy: spare the trial compression. Text and sparse data (low byte entropy) get the trial.
            if (byteRatio >= 0.75 && RepeatedShare(taken) < 0.02)
            {
                if (floatRatio < WorthCompressing && floatRatio < byteRatio - FloatMargin)
                {
                    return new ProbeResult(codec, phase);
                }

                if (byteRatio > 0.99)
                {
                    return new ProbeResult(BlobCodec.None, 0);
                }
            }

            var zstdRatio = (double)ZstdFrames.Compress(taken, sample.AsSpan(sampleLength), zstdLevel) / sampleLength;
            if (floatRatio < WorthCompressing && floatRatio < zstdRatio - FloatMargin)
            {
                return new ProbeResult(codec, phase);
            }

            return new ProbeResult(zstdRatio < WorthCompressing ? BlobCodec.Zstd : BlobCodec.None, 0);
        }
        finally
        {
            CodecScratch.Pool.Return(sample);
        }
    }

    // The share of 2-byte words equal to the word before them: runs and repeats that LZ matching would find.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double RepeatedShare(ReadOnlySpan<byte> sample)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(sample);
        var repeats = 0;
        for (var i = 2; i < words.Length; i++)
        {
            repeats += words[i] == words[i - 2] ? 1 : 0;
        }

        return words.Length > 2 ? (double)repeats / (words.Length - 2) : 0;
    }

    // Windows start at multiples of 4 from the blob's start, so every window sees the same value alignment.
    private static void TakeSample(ReadOnlySpan<byte> raw, Span<byte> sample)
    {
        if (sample.Length == raw.Length)
        {
            raw.CopyTo(sample);
            return;
        }

        var step = (raw.Length - WindowSize) / (Windows - 1) / 4 * 4;
        for (var w = 0; w < Windows; w++)
        {
            raw.Slice(w * step, WindowSize).CopyTo(sample[(w * WindowSize)..]);
        }
    }

    // Picks the alignment whose exponent byte has the least entropy for each width, then estimates the encoded size
    // over the raw size from the entropy of every plane at that alignment. One pass finds the exponent of the 16-bit
    // word at every offset, counted by offset mod 4: a float32 at phase p has its exponent in the word at p + 2, a
    // 16-bit value at phase q in the word at q.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double Ratio, BlobCodec Codec, int Phase) BestFloatLayout(ReadOnlySpan<byte> sample, int windowLength)
    {
        Span<long> byOffset = stackalloc long[4 * 256];
        for (var start = 0; start + windowLength <= sample.Length; start += windowLength)
        {
            var window = sample.Slice(start, windowLength);
            for (var j = 0; j + 4 <= window.Length; j += 4)
            {
                // Exponents of the words at j, j+1, j+2 and j+3 (the last one reads one byte past when it fits).
                int b0 = window[j], b1 = window[j + 1], b2 = window[j + 2], b3 = window[j + 3];
                byOffset[((b1 << 1) | (b0 >> 7)) & 0xFF]++;
                byOffset[256 + (((b2 << 1) | (b1 >> 7)) & 0xFF)]++;
                byOffset[512 + (((b3 << 1) | (b2 >> 7)) & 0xFF)]++;
                if (j + 4 < window.Length)
                {
                    byOffset[768 + (((window[j + 4] << 1) | (b3 >> 7)) & 0xFF)]++;
                }
            }
        }

        var best = (Ratio: double.MaxValue, Codec: BlobCodec.None, Phase: 0);
        Span<long> histogram = stackalloc long[256];
        foreach (var width in (ReadOnlySpan<int>)[4, 2])
        {
            var (phase, lowest) = (0, double.MaxValue);
            for (var candidate = 0; candidate < width; candidate++)
            {
                histogram.Clear();
                for (var offset = width == 4 ? (candidate + 2) % 4 : candidate; offset < 4; offset += width)
                {
                    for (var s = 0; s < 256; s++)
                    {
                        histogram[s] += byOffset[(offset * 256) + s];
                    }
                }

                var entropy = ByteHistogram.Entropy(histogram, Sum(histogram));
                if (entropy < lowest)
                {
                    (phase, lowest) = (candidate, entropy);
                }
            }

            var bitsPerValue = lowest;
            for (var plane = 1; plane < width; plane++)
            {
                bitsPerValue += PlaneEntropy(sample, windowLength, width, phase, plane, histogram);
            }

            var ratio = bitsPerValue / (8 * width);
            if (ratio < best.Ratio)
            {
                best = (ratio, width == 4 ? BlobCodec.Float32Planes : BlobCodec.Float16Planes, phase);
            }
        }

        return best;
    }

    private static long Sum(ReadOnlySpan<long> histogram)
    {
        long total = 0;
        foreach (var n in histogram)
        {
            total += n;
        }

        return total;
    }

    // Plane numbering as in FloatPlaneCodec: 0 = exponent, 1 = sign and top mantissa bits, 2.. = lower mantissa bytes.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double PlaneEntropy(ReadOnlySpan<byte> sample, int windowLength, int width, int phase, int plane, Span<long> histogram)
    {
        histogram.Clear();
        long total = 0;
        for (var start = 0; start + windowLength <= sample.Length; start += windowLength)
        {
            var window = sample.Slice(start, windowLength);
            for (var i = phase; i + width <= window.Length; i += width)
            {
                int top = window[i + width - 1], next = window[i + width - 2];
                var symbol = plane switch
                {
                    0 => ((top << 1) | (next >> 7)) & 0xFF,
                    1 => (top & 0x80) | (next & 0x7F),
                    _ => window[i + width - 1 - plane],
                };
                histogram[symbol]++;
                total++;
            }
        }

        return ByteHistogram.Entropy(histogram, total);
    }
}
