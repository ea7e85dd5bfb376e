using ZstdSharp;

namespace Baton.Compression;

/// <summary>One zstd frame in, one out; one compression and one decompression context per thread.</summary>
internal static class ZstdFrames
{
    [ThreadStatic]
    private static Compressor? t_compressor;

    [ThreadStatic]
    private static Decompressor? t_decompressor;

    /// <summary>The largest frame <paramref name="rawLength"/> bytes can become.</summary>
    public static int MaxLength(int rawLength) => Compressor.GetCompressBound(rawLength);

    /// <summary>Compresses into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes); returns the frame's length.</summary>
    public static int Compress(ReadOnlySpan<byte> raw, Span<byte> destination, int level)
    {
        var compressor = t_compressor;
        if (compressor is null || compressor.Level != level)
        {
            compressor?.Dispose();
            compressor = t_compressor = new Compressor(level);
        }

        return compressor.Wrap(raw, destination);
    }

    /// <summary>Decompresses a frame that must fill <paramref name="destination"/> exactly.</summary>
    /// <exception cref="InvalidDataException">The frame is corrupt or has another length.</exception>
    public static void Decompress(ReadOnlySpan<byte> frame, Span<byte> destination)
    {
        int written;
        try
        {
            written = (t_decompressor ??= new Decompressor()).Unwrap(frame, destination);
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

        if (written != destination.Length)
        {
            throw new InvalidDataException($"zstd frame decoded to {written} bytes, expected {destination.Length}");
        }
    }
}
