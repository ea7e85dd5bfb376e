using System.Buffers.Binary;

namespace Baton.Checkpoints;

/// <summary>
/// Checks that a file ends with a zip end-of-central-directory record: <c>torch.save</c> (and Lightning) write it
/// last, so a file cut short by a crash lacks it.
/// </summary>
internal static class ZipTrailer
{
    private const int RecordSize = 22;
    private const int MaxComment = ushort.MaxValue;
    private const uint Signature = 0x06054b50;

    public static bool IsComplete(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(handle);
            if (length < RecordSize)
            {
                return false;
            }

            var tail = new byte[(int)Math.Min(length, RecordSize + MaxComment)];
            var read = RandomAccess.Read(handle, tail, length - tail.Length);
            if (read != tail.Length)
            {
                return false;
            }

            // The record must end exactly at the end of the file (after its comment), not somewhere before it.
            for (var at = tail.Length - RecordSize; at >= 0; at--)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(at)) == Signature
                    && at + RecordSize + BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(at + 20)) == tail.Length)
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
