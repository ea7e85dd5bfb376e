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

    /// <summary>Reserved: float32 data split into byte planes, exponent plane entropy-coded.</summary>
    Float32Planes = 2,

    /// <summary>Reserved: bfloat16/float16 data split into byte planes, exponent plane entropy-coded.</summary>
    Float16Planes = 3,
}
