using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security;
using System.Text;
using Baton.Testing;

namespace Baton.Storage.S3.Tests;

/// <summary>A request as the server saw it.</summary>
public sealed record SeenRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>
/// A small S3 server on a loopback port, written for the tests: path-style buckets, PUT (honouring
/// <c>If-None-Match: *</c> and <c>x-goog-if-generation-match: 0</c> atomically, which s3rver does not), GET with
/// ranges, HEAD, DELETE, multipart uploads, ListObjects and bucket creation. Signatures are not checked. <see cref="Intercept"/> can
/// answer any request with an error instead, to test how the store classifies failures.
/// </summary>
public sealed class MiniS3Server : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, SortedDictionary<string, byte[]>> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Bucket, string Key, SortedDictionary<int, byte[]> Parts)> _uploads = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<SeenRequest> _seen = new();
    private readonly Task _loop;

    // Every object is dated with the server's start, in listings and headers alike (S3 gives whole seconds): the ETag,
    // the content's MD5, is what tells versions apart here.
    private readonly DateTimeOffset _started = DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds());

    public MiniS3Server(params string[] buckets)
    {
        foreach (var bucket in buckets)
        {
            _buckets[bucket] = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        }

        // A free port can be taken by another process between the check and the bind: try a few.
        for (var attempt = 0; ; attempt++)
        {
            Port = FreePort.Next();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>Answers a request with (status, S3 error code) instead of serving it, when it returns a value.</summary>
    public Func<SeenRequest, (int Status, string Code)?>? Intercept { get; set; }

    /// <summary>Whether a PUT of a missing bucket is refused with AccessDenied.</summary>
    public bool RefuseBucketCreation { get; set; }

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<SeenRequest> Seen => [.. _seen];

    public bool HasBucket(string bucket)
    {
        lock (_buckets)
        {
            return _buckets.ContainsKey(bucket);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var request = await ReadAsync(context.Request);
            _seen.Enqueue(request);
            var (status, headers, body) = Intercept?.Invoke(request) is { } error ? Error(error.Status, error.Code) : Serve(request, context.Request.QueryString);
            response.StatusCode = status;
            foreach (var (name, value) in headers)
            {
                response.AddHeader(name, value);
            }

            response.ContentLength64 = body.Length;
            if (request.Method != "HEAD" && body.Length > 0)
            {
                await response.OutputStream.WriteAsync(body);
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    private static async Task<SeenRequest> ReadAsync(HttpListenerRequest request)
    {
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body);
        var headers = request.Headers.AllKeys.Where(k => k is not null)
            .ToDictionary(k => k!.ToLowerInvariant(), k => request.Headers[k] ?? "", StringComparer.Ordinal);
        return new SeenRequest(request.HttpMethod, Uri.UnescapeDataString(request.Url!.AbsolutePath), request.Url.Query, headers, body.ToArray());
    }

    private (int, List<(string, string)>, byte[]) Serve(SeenRequest request, System.Collections.Specialized.NameValueCollection query)
    {
        var path = request.Path.TrimStart('/');
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? path : path[..slash];
        var key = slash < 0 ? "" : path[(slash + 1)..];
        lock (_buckets)
        {
            if (key.Length == 0)
            {
                return ServeBucket(request.Method, bucket, query["prefix"] ?? "");
            }

            if (!_buckets.TryGetValue(bucket, out var objects))
            {
                return Error(404, "NoSuchBucket");
            }

            if (request.Query.Contains("uploads", StringComparison.Ordinal) || query["uploadId"] is not null)
            {
                return ServeMultipart(request, query, bucket, key, objects);
            }

            switch (request.Method)
            {
                case "PUT":
                    var createOnly = request.Headers.GetValueOrDefault("if-none-match") == "*"
                        || request.Headers.GetValueOrDefault("x-goog-if-generation-match") == "0";
                    if (createOnly && objects.ContainsKey(key))
                    {
                        return Error(412, "PreconditionFailed");
                    }

                    objects[key] = request.Body;
                    return (200, [("ETag", ETag(request.Body))], []);
                case "GET" or "HEAD":
                    return objects.TryGetValue(key, out var data) ? Get(data, request.Headers.GetValueOrDefault("range")) : Error(404, "NoSuchKey");
                case "DELETE":
                    objects.Remove(key);
                    return (204, [], []);
                default:
                    return Error(405, "MethodNotAllowed");
            }
        }
    }

    private (int, List<(string, string)>, byte[]) ServeMultipart(
        SeenRequest request, System.Collections.Specialized.NameValueCollection query, string bucket, string key, SortedDictionary<string, byte[]> objects)
    {
        var uploadId = query["uploadId"];
        if (uploadId is null)
        {
            uploadId = Guid.NewGuid().ToString("N");
            _uploads[uploadId] = (bucket, key, new SortedDictionary<int, byte[]>());
            return Xml($"<InitiateMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{SecurityElement.Escape(key)}</Key><UploadId>{uploadId}</UploadId></InitiateMultipartUploadResult>");
        }

        if (!_uploads.TryGetValue(uploadId, out var upload))
        {
            return Error(404, "NoSuchUpload");
        }

        switch (request.Method)
        {
            case "PUT":
                upload.Parts[int.Parse(query["partNumber"]!, CultureInfo.InvariantCulture)] = request.Body;
                return (200, [("ETag", ETag(request.Body))], []);
            case "DELETE":
                _uploads.Remove(uploadId);
                return (204, [], []);
            case "POST":
                var listed = System.Xml.Linq.XDocument.Parse(Encoding.UTF8.GetString(request.Body)).Descendants()
                    .Where(e => e.Name.LocalName == "PartNumber").Select(e => int.Parse(e.Value, CultureInfo.InvariantCulture)).ToList();
                if (request.Headers.GetValueOrDefault("if-none-match") == "*" && objects.ContainsKey(key))
                {
                    return Error(412, "PreconditionFailed");
                }

                objects[key] = [.. listed.SelectMany(n => upload.Parts[n])];
                _uploads.Remove(uploadId);
                return Xml($"<CompleteMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{SecurityElement.Escape(key)}</Key><ETag>\"x-{listed.Count}\"</ETag></CompleteMultipartUploadResult>");
            default:
                return Error(405, "MethodNotAllowed");
        }
    }

    /// <summary>How many multipart uploads were started and neither completed nor aborted.</summary>
    public int OpenUploads
    {
        get
        {
            lock (_buckets)
            {
                return _uploads.Count;
            }
        }
    }

    private static (int, List<(string, string)>, byte[]) Xml(string body) =>
        (200, [("Content-Type", "application/xml")], Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + body));

    private (int, List<(string, string)>, byte[]) ServeBucket(string method, string bucket, string prefix)
    {
        if (method == "PUT")
        {
            if (_buckets.ContainsKey(bucket))
            {
                return Error(409, "BucketAlreadyOwnedByYou");
            }

            if (RefuseBucketCreation)
            {
                return Error(403, "AccessDenied");
            }

            _buckets[bucket] = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
            return (200, [], []);
        }

        if (!_buckets.TryGetValue(bucket, out var objects))
        {
            return Error(404, "NoSuchBucket");
        }

        var xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        xml.Append(CultureInfo.InvariantCulture, $"<Name>{bucket}</Name><Prefix>{SecurityElement.Escape(prefix)}</Prefix><IsTruncated>false</IsTruncated>");
        foreach (var (key, data) in objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)))
        {
            xml.Append(CultureInfo.InvariantCulture,
                $"<Contents><Key>{SecurityElement.Escape(key)}</Key><Size>{data.Length}</Size><ETag>{ETag(data)}</ETag><LastModified>{_started.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}</LastModified></Contents>");
        }

        xml.Append("</ListBucketResult>");
        return (200, [("Content-Type", "application/xml")], Encoding.UTF8.GetBytes(xml.ToString()));
    }

    private string LastModified => _started.ToString("R", CultureInfo.InvariantCulture);

    private (int, List<(string, string)>, byte[]) Get(byte[] data, string? range)
    {
        if (range is null)
        {
            return (200, [("ETag", ETag(data)), ("Last-Modified", LastModified)], data);
        }

        var spec = range["bytes=".Length..].Split('-');
        var start = long.Parse(spec[0], CultureInfo.InvariantCulture);
        if (start >= data.Length)
        {
            return Error(416, "InvalidRange");
        }

        var end = spec[1].Length == 0 ? data.Length - 1 : Math.Min(long.Parse(spec[1], CultureInfo.InvariantCulture), data.Length - 1);
        return (206, [("Content-Range", $"bytes {start}-{end}/{data.Length}"), ("ETag", ETag(data)), ("Last-Modified", LastModified)], data[(int)start..(int)(end + 1)]);
    }

    private static (int, List<(string, string)>, byte[]) Error(int status, string code) =>
        (status, [("Content-Type", "application/xml")],
            Encoding.UTF8.GetBytes($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{code}</Message><RequestId>test</RequestId></Error>"));

    private static string ETag(byte[] data) => "\"" + Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(data)) + "\"";
}
