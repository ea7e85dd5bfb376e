using System.Buffers;

namespace Baton.Compression;

/// <summary>
/// Scratch buffers of the codecs. Not the shared pool: that one keeps an array of each size per thread, and an encoder
/// runs on whichever thread its await resumes on, so over a long push more and more threads would each keep
/// plane-sized arrays and the resident set would grow with the length of the push. This pool keeps a few arrays of
/// each size, whichever thread returns them.
/// </summary>
internal static class CodecScratch
{
    public static ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(maxArrayLength: 64 << 20, maxArraysPerBucket: 2 * Environment.ProcessorCount);
}
