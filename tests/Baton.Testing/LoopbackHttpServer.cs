using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Baton.Testing;

/// <summary>A response of <see cref="LoopbackHttpServer"/>.</summary>
public sealed record HttpReply(int Status, string Body = "");

/// <summary>
/// A small HTTP server on 127.0.0.1 and a free port (metadata services, notices): each request goes to a handler
/// that returns the reply. Every request is recorded with its headers.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<HttpListenerRequest, HttpReply> _handler;
    private readonly Task _loop;

    public LoopbackHttpServer(Func<HttpListenerRequest, HttpReply> handler)
    {
        _handler = handler;
        var port = FreePort.Next();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseAddress.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseAddress { get; }

    /// <summary>"METHOD /path?query" of every request, with the headers the test may check.</summary>
    public ConcurrentQueue<(string Line, WebHeaderCollection Headers)> Requests { get; } = new();

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
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

            var request = context.Request;
            var headers = new WebHeaderCollection();
            foreach (var name in request.Headers.AllKeys.OfType<string>())
            {
                headers[name] = request.Headers[name];
            }

            Requests.Enqueue(($"{request.HttpMethod} {request.Url?.PathAndQuery}", headers));
            var reply = _handler(request);
            var body = Encoding.UTF8.GetBytes(reply.Body);
            context.Response.StatusCode = reply.Status;
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }
}
