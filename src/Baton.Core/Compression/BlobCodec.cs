namespace Baton.Compression;

/// <summary>
/// How a blob's bytes are stored. The numeric values are written in packs and never change meaning: a codec once
/// written is readable forever. New codecs take new numbers.
/// </summary>
public enum BlobCodec : byte
{
    /// <summary>Stored as is (used when compression would not pay).</summary>
    None = 0,

    /// <summary>One zstd frame.</summary>
    Zstd = 1,

    /// <summary>float32 values split into planes (exact exponent, sign and mantissa bytes), each coded on its own.</summary>
    Float32Planes = 2,

    /// <summary>16-bit floats (bfloat16, float16) split into planes the same way.</summary>
    Float16Planes = 3,

    /// <summary>
    /// Segments of raw bytes and of float32 or 16-bit floats, each with its own alignment, their exponents coded under
    /// a context model (the previous exponent) and the mantissa planes under their own exponent.
    /// </summary>
    FloatSegments = 4,

    /// <summary>
    /// The XOR of the chunk with a base chunk of the same length (named by its id in the first 32 bytes), coded with one
    /// of codecs 0–4 (<see cref="DeltaCodec"/>). Decoding needs the base's raw bytes; the base is never itself a delta.
    /// </summary>
    Delta = 5,
}
