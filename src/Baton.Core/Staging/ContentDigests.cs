using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Baton.Staging;

/// <summary>The checksums a source publishes for its content (any may be missing).</summary>
/// <param name="Md5">Lower-case hex MD5: from <c>Content-MD5</c>, <c>x-goog-hash: md5=</c>, or an object store's plain ETag.</param>
/// <param name="Crc32C">Base64 big-endian CRC-32C from <c>x-goog-hash: crc32c=</c>.</param>
internal sealed record ExpectedDigests(string? Md5, string? Crc32C)
{
    public static ExpectedDigests None { get; } = new(null, null);

    public bool IsEmpty => Md5 is null && Crc32C is null;

    /// <summary>Reads the checksums from response headers. A plain 32-hex-digit ETag counts as an MD5 only from object stores (S3, GCS).</summary>
    public static ExpectedDigests FromHeaders(HttpResponseHeaders headers, HttpContentHeaders? content, bool wholeObject)
    {
        string? md5 = null;
        string? crc = null;
        if (headers.TryGetValues("x-goog-hash", out var googHashes))
        {
            foreach (var part in googHashes.SelectMany(h => h.Split(',')))
            {
                var pair = part.Trim();
                if (pair.StartsWith("md5=", StringComparison.OrdinalIgnoreCase))
                {
                    md5 = HexOfBase64(pair[4..]);
                }
                else if (pair.StartsWith("crc32c=", StringComparison.OrdinalIgnoreCase))
                {
                    crc = pair[7..];
                }
            }
        }

        // Content-MD5 on a partial response would describe the range, not the object.
        if (md5 is null && wholeObject && content?.ContentMD5 is { Length: 16 } contentMd5)
        {
            md5 = Convert.ToHexStringLower(contentMd5);
        }

        var objectStore = headers.Any(h => h.Key.StartsWith("x-goog-", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase));
        if (md5 is null && objectStore && headers.ETag is { IsWeak: false } etag && IsMd5Hex(etag.Tag.Trim('"')))
        {
            md5 = etag.Tag.Trim('"').ToLowerInvariant();
        }

        return new ExpectedDigests(md5, crc);
    }

    /// <summary>Throws <see cref="IntegrityException"/> when the computed checksums contradict the published ones.</summary>
    public void Verify(ComputedDigests actual, string source)
    {
        if (Md5 is not null && actual.Md5 is not null && !string.Equals(Md5, actual.Md5, StringComparison.OrdinalIgnoreCase))
        {
            throw new IntegrityException($"the download of {source} is corrupt: its MD5 is {actual.Md5} but the server says {Md5}; stage it again");
        }

        if (Crc32C is not null && actual.Crc32C is not null && Crc32C != actual.Crc32C)
        {
            throw new IntegrityException($"the download of {source} is corrupt: its CRC32C is {actual.Crc32C} but the server says {Crc32C}; stage it again");
        }
    }

    private static bool IsMd5Hex(string text) => text.Length == 32 && text.All(Uri.IsHexDigit);

    private static string? HexOfBase64(string text)
    {
        try
        {
            var bytes = Convert.FromBase64String(text);
            return bytes.Length == 16 ? Convert.ToHexStringLower(bytes) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>Checksums computed over downloaded bytes.</summary>
internal sealed record ComputedDigests(string Sha256, string? Md5, string? Crc32C)
{
    /// <summary>Reads a file once and computes SHA-256, plus MD5 and CRC-32C when asked for.</summary>
    public static async Task<ComputedDigests> OfFileAsync(string path, bool md5, bool crc32c, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
#pragma warning disable CA5351 // MD5 only checks a transfer against the checksum the server publishes; it protects nothing.
        using var md5Hash = md5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
#pragma warning restore CA5351
        var crc = crc32c ? new Crc32C() : null;
        var buffer = new byte[1 << 20];
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var span = buffer.AsSpan(0, read);
            sha.AppendData(span);
            md5Hash?.AppendData(span);
            crc?.Append(span);
        }

        return new ComputedDigests(
            Convert.ToHexStringLower(sha.GetHashAndReset()),
            md5Hash is null ? null : Convert.ToHexStringLower(md5Hash.GetHashAndReset()),
            crc?.ToBase64());
    }
}
