using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Baton.Storage;
using Baton.Storage.Decorators;

namespace Baton.Staging;

/// <summary>
/// A file behind an http(s) URL (public GCS and S3 objects are plain HTTPS). Described with HEAD (or a one-byte ranged
/// GET where HEAD is refused, as with URLs signed for GET only); read with ranged GETs that carry the validator
/// (<c>If-Match</c>), so a file that changes mid-download is noticed rather than stitched together.
/// </summary>
internal sealed class HttpSource(HttpClient client, Uri uri, string relativePath) : IRangeReader
{
    private string? _etag;
    private DateTimeOffset? _lastModified;

    /// <summary>The URL for messages: no user info, no query (it may hold a signature).</summary>
    public static string DisplayOf(Uri uri) =>
        $"{uri.Scheme}://{uri.Authority}{uri.AbsolutePath}{(uri.Query.Length > 1 ? "?..." : "")}";

    public string Display => DisplayOf(uri);

    /// <summary>Describes the file from what a listing said, without asking the server again.</summary>
    public RemoteFile Known(long size, string? etag, DateTimeOffset? lastModified, ExpectedDigests digests)
    {
        _etag = etag is not null && !etag.StartsWith("W/", StringComparison.Ordinal) ? etag : null;
        _lastModified = lastModified;
        return new RemoteFile
        {
            Identity = uri.AbsoluteUri,
            Display = Display,
            RelativePath = relativePath,
            Size = size,
            ETag = etag,
            LastModified = lastModified,
            Digests = digests,
            SupportsRanges = true,
            Reader = this,
        };
    }

    /// <summary>Asks the server about the file without downloading it.</summary>
    public async Task<RemoteFile> DescribeAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await DescribeOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.StatusCode is null)
        {
            throw new StoreException(StoreErrorReason.Unreachable, Display, null, $"cannot connect to {Display}: {e.HttpRequestError}; check the address and the network", e);
        }
    }

    private async Task<RemoteFile> DescribeOnceAsync(CancellationToken cancellationToken)
    {
        using var head = await SendAsync(new HttpRequestMessage(HttpMethod.Head, uri), cancellationToken).ConfigureAwait(false);
        if (head.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.Forbidden or HttpStatusCode.NotImplemented)
        {
            var probe = new HttpRequestMessage(HttpMethod.Get, uri);
            probe.Headers.Range = new RangeHeaderValue(0, 0);
            using var probed = await SendAsync(probe, cancellationToken).ConfigureAwait(false);
            return Describe(probed, probed.StatusCode == HttpStatusCode.PartialContent ? probed.Content.Headers.ContentRange?.Length : probed.Content.Headers.ContentLength);
        }

        return Describe(head, head.Content.Headers.ContentLength);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenAsync(long offset, long length, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (offset > 0 || length >= 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, length >= 0 ? offset + length - 1 : null);
        }

        if (_etag is not null)
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue(_etag));
        }
        else if (_lastModified is { } since)
        {
            request.Headers.IfUnmodifiedSince = since;
        }

        var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                throw new SourceChangedException($"{Display} changed while it was being downloaded");
            }

            ThrowIfFailed(response);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                if (response.Content.Headers.ContentRange?.From != offset)
                {
                    throw new TransientSourceException($"{Display} answered a request for bytes from {offset} with another range");
                }

                return new ResponseStream(response, body);
            }

            // The server ignored the range and sent the whole file: skip to the offset.
            await SkipAsync(body, offset, cancellationToken).ConfigureAwait(false);
            return new ResponseStream(response, body);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>Every read already carried the validator (If-Match or If-Unmodified-Since): nothing to ask again.</remarks>
    public Task EnsureUnchangedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private RemoteFile Describe(HttpResponseMessage response, long? size)
    {
        ThrowIfFailed(response);
        var etag = response.Headers.ETag is { IsWeak: false } strong ? strong.Tag : null;
        _etag = etag;
        _lastModified = response.Content.Headers.LastModified;
        var ranges = response.StatusCode == HttpStatusCode.PartialContent || response.Headers.AcceptRanges.Contains("bytes");
        return new RemoteFile
        {
            Identity = uri.AbsoluteUri,
            Display = Display,
            RelativePath = relativePath,
            Size = size,
            ETag = response.Headers.ETag?.Tag,
            LastModified = _lastModified,
            Digests = ExpectedDigests.FromHeaders(response.Headers, response.Content.Headers, wholeObject: response.StatusCode == HttpStatusCode.OK),
            SupportsRanges = ranges && size is not null,
            Reader = this,
        };
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            try
            {
                return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain })
            {
                throw new StoreException(StoreErrorReason.Unreachable, Display, null, $"cannot resolve the host of {Display}: check the address and the network", e);
            }
        }
    }

    private void ThrowIfFailed(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status is >= 200 and < 300)
        {
            return;
        }

        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new StoreException(StoreErrorReason.Unauthorized, Display, null,
                $"{Display} refused access (HTTP {status}): it is not public; use a signed URL or the store's own address with credentials"),
            HttpStatusCode.NotFound or HttpStatusCode.Gone => new UsageException($"nothing at {Display} (HTTP {status}): check the address"),
            HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests => new TransientSourceException($"{Display} answered HTTP {status}"),
            _ when status >= 500 => new TransientSourceException($"{Display} answered HTTP {status}"),
            _ => new StoreException(StoreErrorReason.Permanent, Display, null, $"{Display} answered HTTP {status} {response.ReasonPhrase}"),
        };
    }

    private static async Task SkipAsync(Stream body, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        while (count > 0)
        {
            var read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new TransientSourceException("the response ended before the requested offset");
            }

            count -= read;
        }
    }

    /// <summary>A response body that disposes its response.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream body) : ReadStreamDecorator(body)
    {
        protected override void OnDisposed() => response.Dispose();
    }
}
