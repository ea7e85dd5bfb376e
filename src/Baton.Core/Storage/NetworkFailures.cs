using System.Net.Sockets;

namespace Baton.Storage;

/// <summary>
/// Classifies transport failures (sockets, HTTP, timeouts) the same way for every network store: a store that
/// cannot be reached at all is <see cref="StoreErrorReason.Unreachable"/>; a connection that broke is
/// <see cref="StoreErrorReason.Transient"/>.
/// </summary>
public static class NetworkFailures
{
    /// <summary>
    /// The reason for a transport failure somewhere in <paramref name="exception"/>'s chain, with a short
    /// description, or <c>null</c> when it is not a transport failure.
    /// </summary>
    public static (StoreErrorReason Reason, string What)? Classify(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket:
                    return socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => (StoreErrorReason.Unreachable, "connection refused"),
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => (StoreErrorReason.Unreachable, "unknown host"),
                        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.NetworkDown
                            => (StoreErrorReason.Unreachable, "host unreachable"),
                        SocketError.TimedOut => (StoreErrorReason.Transient, "connection timed out"),
                        _ => (StoreErrorReason.Transient, "connection failed (" + socket.SocketErrorCode + ")"),
                    };
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError }:
                    return (StoreErrorReason.Unreachable, "unknown host");
                case HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError }:
                    return (StoreErrorReason.Unreachable, "TLS handshake failed");
                case HttpRequestException http when e.InnerException is null or not SocketException:
                    return (StoreErrorReason.Transient, "connection failed (" + http.HttpRequestError + ")");
                case TimeoutException:
                    return (StoreErrorReason.Transient, "timed out");
                case IOException when e.InnerException is null or not SocketException:
                    return (StoreErrorReason.Transient, "connection broke");
            }
        }

        return null;
    }
}
