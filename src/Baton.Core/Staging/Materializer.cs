using System.Security.Cryptography;

namespace Baton.Staging;

/// <summary>A cached object did not have the content it is filed under; it has been removed.</summary>
internal sealed class CacheCorruptException(string message) : IOException(message);

/// <summary>
/// Places cached content at its destination: copied through a temporary file and renamed, so the destination holds
/// the old file or the whole new one; the copy is hashed on the way, so a damaged cache is never passed on. The file
/// is stamped with the source's modification time, and a destination with that stamp and size is left alone.
/// </summary>
internal static class Materializer
{
    /// <summary>
    /// Returns false when the destination already held this file (nothing was copied); with
    /// <paramref name="mayBeInPlace"/> false it is copied whatever the destination holds. With <paramref name="sha256"/>
    /// the copy must hash to it, else the cached file is removed and <see cref="CacheCorruptException"/> thrown.
    /// </summary>
    public static async Task<bool> PlaceAsync(
        string cached, string? sha256, long size, DateTimeOffset stamp, string target, Action<long> onBytes, bool mayBeInPlace, CancellationToken cancellationToken)
    {
        if (mayBeInPlace && IsInPlace(target, size, stamp))
        {
            return false;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(target))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, Snapshots.ReservedNames.NewStageTemporary());
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var input = new FileStream(cached, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan))
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer.AsSpan(0, read));
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    onBytes(read);
                }
            }

            if (sha256 is not null && !string.Equals(Convert.ToHexStringLower(hash.GetHashAndReset()), sha256, StringComparison.Ordinal))
            {
                File.Delete(cached);
                throw new CacheCorruptException($"the cached copy {cached} was damaged and has been removed");
            }

            File.SetLastWriteTimeUtc(temp, stamp.UtcDateTime);
            File.Move(temp, target, overwrite: true);
            return true;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Whether the destination already holds the file: same size and the stamp Baton gave it.</summary>
    public static bool IsInPlace(string target, long size, DateTimeOffset stamp)
    {
        var info = new FileInfo(target);
        return info.Exists && info.Length == size && (info.LastWriteTimeUtc - stamp.UtcDateTime).Duration() < TimeSpan.FromMilliseconds(1);
    }
}
