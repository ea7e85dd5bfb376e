using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Baton.Testing;

/// <summary>A file the test server serves, and which checksum headers it sends.</summary>
public sealed class ServedFile(byte[] content)
{
    private (byte[] Content, string Hash)? _googHash;

    public byte[] Content { get; set; } = content;

    public string ETag { get; set; } = "\"" + Guid.NewGuid().ToString("N")[..16] + "\"";

    public DateTimeOffset LastModified { get; set; } = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Send <c>Content-MD5</c> on whole responses.</summary>
    public bool ContentMd5 { get; set; }

    /// <summary>Send <c>x-goog-hash: crc32c=...,md5=...</c> (and so look like Google Cloud Storage).</summary>
    public bool GoogHash { get; set; }

    internal string GoogHashValue()
    {
        var cached = _googHash;
        if (cached is { } c && ReferenceEquals(c.Content, Content))
        {
            return c.Hash;
        }

        var hash = $"crc32c={TestCrc32C.Base64(Content)},md5={Convert.ToBase64String(MD5.HashData(Content))}";
        _googHash = (Content, hash);
        return hash;
    }
}

/// <summary>One request the server saw.</summary>
public sealed record SeenRequest(string Method, string Path, string? Range, int Status, long BodyBytes);

/// <summary>
/// A small HTTP/1.1 server on a free loopback port, written for the tests: it serves files with ETag, Last-Modified,
/// Range and conditional requests, can send checksums the way GCS does, and can misbehave on request: drop the
/// connection part-way through a body, corrupt a body, refuse HEAD, answer with an error status.
/// </summary>
public sealed class HttpTestServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, ServedFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<SeenRequest> _requests = new();
    private readonly Task _loop;
    private int _dropsLeft;
    private long _dropAfter;
    private int _corruptionsLeft;
    private int _failuresLeft;
    private int _failureStatus;

    public HttpTestServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Refuse HEAD with 405, as servers of GET-only signed URLs do.</summary>
    public bool RefuseHead { get; set; }

    /// <summary>Ignore Range headers and always send the whole file with 200.</summary>
    public bool IgnoreRanges { get; set; }

    /// <summary>Pause between body chunks, to make transfers slow enough to interrupt.</summary>
    public TimeSpan ChunkDelay { get; set; }

    public IReadOnlyList<SeenRequest> Requests => _requests.ToList();

    public string Url(string path) => BaseUrl + path;

    public ServedFile Serve(string path, byte[] content)
    {
        var file = new ServedFile(content);
        _files[path] = file;
        return file;
    }

    /// <summary>The next <paramref name="count"/> GET bodies stop after <paramref name="afterBytes"/> bytes and the connection drops.</summary>
    public void DropConnections(int count, long afterBytes)
    {
        Volatile.Write(ref _dropAfter, afterBytes);
        Volatile.Write(ref _dropsLeft, count);
    }

    /// <summary>The next <paramref name="count"/> GET bodies have one byte flipped (headers still describe the true content).</summary>
    public void CorruptBodies(int count) => Volatile.Write(ref _corruptionsLeft, count);

    /// <summary>The next <paramref name="count"/> requests are answered with <paramref name="status"/>.</summary>
    public void Fail(int count, int status)
    {
        Volatile.Write(ref _failureStatus, status);
        Volatile.Write(ref _failuresLeft, count);
    }

    public void ClearRequests() => _requests.Clear();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream);
                if (head is null)
                {
                    return;
                }

                await RespondAsync(stream, head.Value.Method, head.Value.Target, head.Value.Headers);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away: nothing to do.
            }
        }
    }

    private async Task RespondAsync(NetworkStream stream, string method, string target, Dictionary<string, string> headers)
    {
        headers.TryGetValue("range", out var range);
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            _requests.Enqueue(new SeenRequest(method, target, range, _failureStatus, 0));
            await WriteHeadAsync(stream, Volatile.Read(ref _failureStatus), "Injected", [], 0);
            return;
        }

        var path = target.Split('?')[0];
        if (method == "GET" && target.Contains("?prefix=", StringComparison.Ordinal))
        {
            var listing = Encoding.UTF8.GetBytes(Listing(path, Uri.UnescapeDataString(target[(target.IndexOf("?prefix=", StringComparison.Ordinal) + 8)..].Split('&')[0])));
            _requests.Enqueue(new SeenRequest(method, target, range, 200, listing.Length));
            await WriteHeadAsync(stream, 200, "OK", [("Content-Type", "application/xml")], listing.Length);
            await stream.WriteAsync(listing);
            return;
        }

        if (!_files.TryGetValue(Uri.UnescapeDataString(path), out var file))
        {
            _requests.Enqueue(new SeenRequest(method, target, range, 404, 0));
            await WriteHeadAsync(stream, 404, "Not Found", [], 0);
            return;
        }

        if (method == "HEAD" && RefuseHead)
        {
            _requests.Enqueue(new SeenRequest(method, target, range, 405, 0));
            await WriteHeadAsync(stream, 405, "Method Not Allowed", [], 0);
            return;
        }

        var common = new List<(string, string)>
        {
            ("ETag", file.ETag),
            ("Last-Modified", file.LastModified.ToString("R", CultureInfo.InvariantCulture)),
            ("Accept-Ranges", IgnoreRanges ? "none" : "bytes"),
        };
        if (file.GoogHash)
        {
            common.Add(("x-goog-hash", file.GoogHashValue()));
            common.Add(("x-goog-stored-content-length", file.Content.Length.ToString(CultureInfo.InvariantCulture)));
        }

        if ((headers.TryGetValue("if-match", out var ifMatch) && ifMatch != file.ETag)
            || (headers.TryGetValue("if-unmodified-since", out var since) && DateTimeOffset.Parse(since, CultureInfo.InvariantCulture) < file.LastModified))
        {
            _requests.Enqueue(new SeenRequest(method, target, range, 412, 0));
            await WriteHeadAsync(stream, 412, "Precondition Failed", [], 0);
            return;
        }

        if (headers.TryGetValue("if-none-match", out var ifNoneMatch) && ifNoneMatch == file.ETag)
        {
            _requests.Enqueue(new SeenRequest(method, target, range, 304, 0));
            await WriteHeadAsync(stream, 304, "Not Modified", common, -1);
            return;
        }

        var content = file.Content;
        long from = 0, to = content.Length - 1;
        var status = 200;
        if (range is not null && !IgnoreRanges && ParseRange(range, content.Length) is var (a, b))
        {
            (from, to, status) = (a, b, 206);
            common.Add(("Content-Range", $"bytes {from}-{to}/{content.Length}"));
        }
        else if (file.ContentMd5)
        {
            common.Add(("Content-MD5", Convert.ToBase64String(MD5.HashData(content))));
        }

        var length = to - from + 1;
        if (method == "HEAD")
        {
            _requests.Enqueue(new SeenRequest(method, target, range, status, 0));
            await WriteHeadAsync(stream, status, "OK", common, length);
            return;
        }

        var body = content.AsSpan((int)from, (int)length).ToArray();
        if (Interlocked.Decrement(ref _corruptionsLeft) >= 0 && body.Length > 0)
        {
            body[body.Length / 2] ^= 0xFF;
        }

        var limit = Interlocked.Decrement(ref _dropsLeft) >= 0 ? Math.Min(Volatile.Read(ref _dropAfter), body.Length) : body.Length;

        // Recorded before answering, so a test that has its answer also sees the request.
        _requests.Enqueue(new SeenRequest(method, target, range, status, limit));
        await WriteHeadAsync(stream, status, status == 206 ? "Partial Content" : "OK", common, length);
        var sent = 0L;
        while (sent < limit)
        {
            var n = (int)Math.Min(64 * 1024, limit - sent);
            await stream.WriteAsync(body.AsMemory((int)sent, n));
            sent += n;
            if (ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay);
            }
        }

        // Returning closes the socket: a dropped transfer ends with fewer bytes than Content-Length promised.
    }

    private string Listing(string bucketPath, string prefix)
    {
        var bucket = bucketPath.Trim('/');
        var xml = new StringBuilder("<?xml version='1.0' encoding='UTF-8'?><ListBucketResult xmlns='http://doc.s3.amazonaws.com/2006-03-01'>");
        xml.Append(CultureInfo.InvariantCulture, $"<Name>{bucket}</Name><Prefix>{prefix}</Prefix><IsTruncated>false</IsTruncated>");
        foreach (var (path, file) in _files.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var key = path.StartsWith($"/{bucket}/", StringComparison.Ordinal) ? path[(bucket.Length + 2)..] : null;
            if (key is not null && key.StartsWith(prefix, StringComparison.Ordinal))
            {
                xml.Append(CultureInfo.InvariantCulture,
                    $"<Contents><Key>{key}</Key><LastModified>{file.LastModified:yyyy-MM-ddTHH:mm:ss.fffZ}</LastModified><ETag>{file.ETag}</ETag><Size>{file.Content.Length}</Size></Contents>");
            }
        }

        return xml.Append("</ListBucketResult>").ToString();
    }

    private static (long, long)? ParseRange(string header, long size)
    {
        if (!header.StartsWith("bytes=", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = header[6..].Split('-');
        var from = long.Parse(parts[0], CultureInfo.InvariantCulture);
        var to = parts[1].Length == 0 ? size - 1 : Math.Min(size - 1, long.Parse(parts[1], CultureInfo.InvariantCulture));
        return from <= to ? (from, to) : null;
    }

    private static async Task WriteHeadAsync(NetworkStream stream, int status, string reason, List<(string Name, string Value)> headers, long length)
    {
        var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        if (length >= 0)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {length}\r\n");
        }

        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
    }

    private static async Task<(string Method, string Target, Dictionary<string, string> Headers)?> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 65536)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return null;
            }

            buffer.Add(one[0]);
            if (buffer.Count >= 4 && buffer[^1] == '\n' && buffer[^2] == '\r' && buffer[^3] == '\n' && buffer[^4] == '\r')
            {
                break;
            }
        }

        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
            }
        }

        return (first[0], first[1], headers);
    }
}

/// <summary>An independent CRC-32C for the server's x-goog-hash (a plain bitwise loop, unlike Baton's).</summary>
internal static class TestCrc32C
{
    public static string Base64(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        crc = ~crc;
        return Convert.ToBase64String([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
    }
}
