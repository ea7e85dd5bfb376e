using System.Net.Sockets;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;

namespace Baton.Storage.Sftp;

/// <summary>Turns SSH.NET and socket failures into a <see cref="StoreException"/> with the right reason and a one-line message.</summary>
internal static class SftpErrors
{
    /// <summary>Classifies a failure of a connection attempt.</summary>
    public static StoreException Connect(Exception e, string location, SftpAddress address, string? hostKeyProblem, string keysTried)
    {
        var target = $"{address.User}@{address.Host}:{address.Port}";
        return e switch
        {
            _ when hostKeyProblem is not null => new StoreException(StoreErrorReason.Unauthorized, location, null, hostKeyProblem, e),
            SshAuthenticationException => new StoreException(StoreErrorReason.Unauthorized, location, null,
                $"SSH authentication as {target} failed with {keysTried}: add the public key to the server's authorized_keys, or set {SftpSettings.KeyFileVariable} to the right key", e),
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } => new StoreException(StoreErrorReason.Unreachable, location, null,
                $"cannot resolve host '{address.Host}' of {location}: check the address", e),
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } => new StoreException(StoreErrorReason.Unreachable, location, null,
                $"connection to {address.Host}:{address.Port} refused: is the SSH server running and is the port right?", e),
            SocketException s => new StoreException(StoreErrorReason.Unreachable, location, null,
                $"cannot connect to {address.Host}:{address.Port}: {s.SocketErrorCode}; check the address and the network", e),
            SshOperationTimeoutException or TimeoutException => new StoreException(StoreErrorReason.Unreachable, location, null,
                $"timed out connecting to {address.Host}:{address.Port}: check the address and the network", e),
            ProxyException => new StoreException(StoreErrorReason.Unreachable, location, null, $"cannot connect to {address.Host}:{address.Port} through the proxy", e),
            SshConnectionException or SshException or IOException => new StoreException(StoreErrorReason.Unreachable, location, null,
                $"SSH connection to {address.Host}:{address.Port} failed: {OneLine(e.Message)}", e),
            _ => new StoreException(StoreErrorReason.Permanent, location, null, $"cannot connect to {location}: {OneLine(e.Message)}", e),
        };
    }

    /// <summary>Classifies a failure of an operation on an open connection.</summary>
    public static StoreException Operation(Exception e, string location, string key, string operation)
    {
        var (reason, what) = e switch
        {
            SftpPathNotFoundException => (StoreErrorReason.NotFound, "not found"),
            SftpPermissionDeniedException => (StoreErrorReason.Unauthorized, "permission denied on the server"),
            SftpException { StatusCode: StatusCode.NoSuchFile } => (StoreErrorReason.NotFound, "not found"),
            SftpException { StatusCode: StatusCode.PermissionDenied } => (StoreErrorReason.Unauthorized, "permission denied on the server"),
            SshConnectionException or SshOperationTimeoutException or SocketException or IOException or ObjectDisposedException =>
                (StoreErrorReason.Transient, $"connection lost ({OneLine(e.Message)})"),
            _ when e.Message.Contains("quota", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("space", StringComparison.OrdinalIgnoreCase) =>
                (StoreErrorReason.Full, "no space left or over quota"),
            _ => (StoreErrorReason.Permanent, OneLine(e.Message)),
        };
        return new StoreException(reason, location, key, $"cannot {operation} '{key}' in {location}: {what}", e);
    }

    /// <summary>Whether a failure means the connection is gone and must be opened again.</summary>
    public static bool IsConnectionLost(Exception e) =>
        e is SshConnectionException or SshOperationTimeoutException or SocketException or IOException or ObjectDisposedException;

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
