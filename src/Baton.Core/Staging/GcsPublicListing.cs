using System.Globalization;
using System.Xml.Linq;
using Baton.Storage;

namespace Baton.Staging;

/// <summary>
/// Lists a public Google Cloud Storage folder (<c>gs://BUCKET/PREFIX/</c>) through the XML API without credentials,
/// so that <c>gs://quickdraw_dataset/sketchrnn/</c>-style folders stage like single objects do.
/// </summary>
internal static class GcsPublicListing
{
    private const int MaxPages = 10_000;

    public static async Task<List<RemoteFile>> DescribeAsync(HttpClient http, Uri endpoint, string bucket, string prefix, CancellationToken cancellationToken)
    {
        var files = new List<RemoteFile>();
        string? marker = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var query = $"{Uri.EscapeDataString(bucket)}?prefix={Uri.EscapeDataString(prefix)}{(marker is null ? "" : "&marker=" + Uri.EscapeDataString(marker))}";
            var listUri = new Uri(endpoint, query);
            using var response = await http.GetAsync(listUri, cancellationToken).ConfigureAwait(false);
            var shown = $"gs://{bucket}/{prefix}";
            if (response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
            {
                throw new StoreException(StoreErrorReason.Unauthorized, shown, null,
                    $"{shown} cannot be listed without credentials (HTTP {(int)response.StatusCode}): stage single objects by name, or configure the gs:// store");
            }

            if ((int)response.StatusCode >= 500)
            {
                throw new TransientSourceException($"listing {shown} answered HTTP {(int)response.StatusCode}");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new UsageException($"cannot list {shown} (HTTP {(int)response.StatusCode}): check the bucket name");
            }

            var xml = XDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            var ns = xml.Root?.Name.Namespace ?? XNamespace.None;
            foreach (var item in xml.Descendants(ns + "Contents"))
            {
                var key = item.Element(ns + "Key")?.Value ?? "";
                if (key.Length <= prefix.Length || key.EndsWith('/'))
                {
                    continue; // the folder placeholder itself
                }

                var url = new Uri(endpoint, $"{Uri.EscapeDataString(bucket)}/{string.Join('/', key.Split('/').Select(Uri.EscapeDataString))}");
                var etag = item.Element(ns + "ETag")?.Value;
                var md5 = etag?.Trim('"') is { Length: 32 } hex && hex.All(Uri.IsHexDigit) ? hex.ToLowerInvariant() : null;
                var modified = DateTimeOffset.TryParse(item.Element(ns + "LastModified")?.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                    ? (DateTimeOffset?)DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds())
                    : null;
                var size = long.Parse(item.Element(ns + "Size")?.Value ?? "0", CultureInfo.InvariantCulture);
                files.Add(new HttpSource(http, url, key[prefix.Length..]).Known(size, etag, modified, new ExpectedDigests(md5, null)));
            }

            if (!string.Equals(xml.Root?.Element(ns + "IsTruncated")?.Value, "true", StringComparison.OrdinalIgnoreCase))
            {
                return files.Count > 0 ? files : throw new UsageException($"nothing at {shown}: no objects under that prefix");
            }

            var lastKey = files.Count > 0 ? prefix + files[^1].RelativePath : null;
            marker = xml.Root?.Element(ns + "NextMarker")?.Value ?? lastKey;
            if (marker is null)
            {
                break;
            }
        }

        return files;
    }
}
