using System.Collections.Concurrent;
using ZstdSharp;

namespace Baton.Compression;

/// <summary>
/// One zstd frame in, one out. Contexts are reused from a small pool rather than kept per thread: an encoder runs on
/// whichever thread its await resumes on, so contexts kept per thread (each with its own working memory, sized by
/// the largest input it saw) would pile up over a long push.
/// </summary>
internal static class ZstdFrames
{
    private static readonly int s_kept = 2 * Environment.ProcessorCount;
    private static readonly ConcurrentBag<Compressor> s_compressors = [];
    private static readonly ConcurrentBag<Decompressor> s_decompressors = [];

    /// <summary>The largest frame <paramref name="rawLength"/> bytes can become.</summary>
    public static int MaxLength(int rawLength) => Compressor.GetCompressBound(rawLength);

    /// <summary>Compresses into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes); returns the frame's length.</summary>
    public static int Compress(ReadOnlySpan<byte> raw, Span<byte> destination, int level)
    {
        if (!s_compressors.TryTake(out var compressor) || compressor.Level != level)
        {
            compressor?.Dispose();
            compressor = new Compressor(level);
        }

        try
        {
            return compressor.Wrap(raw, destination);
        }
        finally
        {
            Keep(s_compressors, compressor);
        }
    }

    /// <summary>Decompresses a frame that must fill <paramref name="destination"/> exactly.</summary>
    /// <exception cref="InvalidDataException">The frame is corrupt or has another length.</exception>
    public static void Decompress(ReadOnlySpan<byte> frame, Span<byte> destination)
    {
        var decompressor = s_decompressors.TryTake(out var pooled) ? pooled : new Decompressor();
        int written;
        try
        {
            written = decompressor.Unwrap(frame, destination);
        }
        catch (ZstdException e)
        {
            throw new InvalidDataException("zstd frame is corrupt: " + e.Message, e);
        }
        catch (ArgumentException e)
        {
            // ZstdSharp reports a frame that decodes to more than the destination holds this way.
            throw new InvalidDataException("zstd frame is larger than expected: " + e.Message, e);
        }
        finally
        {
            Keep(s_decompressors, decompressor);
        }

        if (written != destination.Length)
        {
            throw new InvalidDataException($"zstd frame decoded to {written} bytes, expected {destination.Length}");
        }
    }

    private static void Keep<T>(ConcurrentBag<T> pool, T context)
        where T : IDisposable
    {
        if (pool.Count < s_kept)
        {
            pool.Add(context);
        }
        else
        {
            context.Dispose();
        }
    }
}
