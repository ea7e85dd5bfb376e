using Baton.Storage;
using Polly;
using Polly.Retry;

namespace Baton.Staging;

/// <summary>Turns a source address into the files to stage, choosing how each scheme is read.</summary>
internal static class SourceResolver
{
    /// <summary>The files at the source, and whether the source is a folder (its files go under DEST).</summary>
    public static async Task<(List<RemoteFile> Files, bool Folder)> DescribeAsync(
        StoreUri uri, StageOptions options, HttpClient http, List<IObjectStore> opened, CancellationToken cancellationToken)
    {
        var retry = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<TransientSourceException>(),
                MaxRetryAttempts = Math.Max(0, options.MaxAttempts - 1),
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();
        return await retry.ExecuteAsync(async token => await DescribeOnceAsync(uri, options, http, opened, token).ConfigureAwait(false), cancellationToken)
            .ConfigureAwait(false);
    }

    private static async Task<(List<RemoteFile>, bool)> DescribeOnceAsync(
        StoreUri uri, StageOptions options, HttpClient http, List<IObjectStore> opened, CancellationToken cancellationToken)
    {
        switch (uri.Scheme)
        {
            case "http" or "https":
                var url = new Uri(uri.Original);
                return ([await new HttpSource(http, url, NameOf(url)).DescribeAsync(cancellationToken).ConfigureAwait(false)], false);
            case "gs":
                return await DescribeGcsAsync(uri, options, http, opened, cancellationToken).ConfigureAwait(false);
            default:
                return await DescribeStoreAsync(uri, options, opened, cancellationToken).ConfigureAwait(false);
        }
    }

    // Public objects need no credentials: they are plain HTTPS. A private one is read through the gs:// store, if any.
    private static async Task<(List<RemoteFile>, bool)> DescribeGcsAsync(
        StoreUri uri, StageOptions options, HttpClient http, List<IObjectStore> opened, CancellationToken cancellationToken)
    {
        var body = uri.Body.StartsWith("//", StringComparison.Ordinal) ? uri.Body[2..] : throw new UsageException($"malformed address '{uri.Redacted}': use gs://BUCKET/OBJECT");
        var slash = body.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? body : body[..slash];
        var objectName = slash < 0 ? "" : body[(slash + 1)..];
        if (bucket.Length == 0)
        {
            throw new UsageException($"malformed address '{uri.Redacted}': use gs://BUCKET/OBJECT");
        }

        if (objectName.Length == 0 || objectName.EndsWith('/'))
        {
            if (options.Stores?.Schemes.Contains("gs") == true)
            {
                return await DescribeStoreAsync(uri, options, opened, cancellationToken).ConfigureAwait(false);
            }

            var listing = await GcsPublicListing.DescribeAsync(http, options.GcsEndpoint, bucket, objectName, cancellationToken).ConfigureAwait(false);
            return (listing, true);
        }

        var url = new Uri(options.GcsEndpoint, $"{Uri.EscapeDataString(bucket)}/{string.Join('/', objectName.Split('/').Select(Uri.EscapeDataString))}");
        try
        {
            return ([await new HttpSource(http, url, NameOf(url)).DescribeAsync(cancellationToken).ConfigureAwait(false)], false);
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.Unauthorized && options.Stores?.Schemes.Contains("gs") == true)
        {
            return await DescribeStoreAsync(uri, options, opened, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(List<RemoteFile>, bool)> DescribeStoreAsync(StoreUri uri, StageOptions options, List<IObjectStore> opened, CancellationToken cancellationToken)
    {
        var registry = options.Stores ?? throw new UsageException(
            $"cannot stage from '{uri.Redacted}': this program opens no stores; stage from http(s)://, gs:// or a folder");
        return await StoreSource.DescribeAsync(registry, uri.Original, opened, cancellationToken).ConfigureAwait(false);
    }

    private static string NameOf(Uri url)
    {
        var path = url.AbsolutePath;
        return Uri.UnescapeDataString(path[(path.LastIndexOf('/') + 1)..]);
    }
}
