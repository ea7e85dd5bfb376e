using Renci.SshNet;
using Renci.SshNet.Common;

namespace Baton.Storage.Sftp;

/// <summary>
/// One SSH connection with its SFTP channel, opened on first use and again after it drops. SSH.NET's client serves
/// concurrent requests over the one channel, so the store shares it between callers.
/// </summary>
internal sealed class SftpConnection(SftpAddress address, SftpSettings settings, string location) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HostKeyVerifier _verifier = new(address, settings);
    private SftpClient? _client;
    private volatile string? _hostKeyProblem;

    /// <summary>Returns a connected client, connecting (again) when needed.</summary>
    public async Task<SftpClient> GetAsync(CancellationToken cancellationToken)
    {
        var client = _client;
        if (client is { IsConnected: true })
        {
            return client;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true })
            {
                return _client;
            }

            _client?.Dispose();
            _client = null;
            var (methods, keysTried) = Authentication.Methods(address.User, settings, location);
            var info = new ConnectionInfo(address.Host, address.Port, address.User, methods) { Timeout = settings.ConnectTimeout };
            RestrictHostKeyAlgorithms(info);
            var fresh = new SftpClient(info)
            {
                OperationTimeout = TimeSpan.FromMinutes(2),
                KeepAliveInterval = TimeSpan.FromSeconds(30),
            };
            fresh.HostKeyReceived += OnHostKeyReceived;
            _hostKeyProblem = null;
            try
            {
                await fresh.ConnectAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || _hostKeyProblem is not null)
            {
                fresh.Dispose();
                throw SftpErrors.Connect(e, location, address, _hostKeyProblem, keysTried);
            }

            _client = fresh;
            return fresh;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _client?.Dispose();
        _client = null;
        _gate.Dispose();
    }

    private void OnHostKeyReceived(object? sender, HostKeyEventArgs e)
    {
        var problem = _verifier.Verify(e.HostKey, e.FingerPrintSHA256);
        _hostKeyProblem = problem;
        e.CanTrust = problem is null;
    }

    private void RestrictHostKeyAlgorithms(ConnectionInfo info)
    {
        var knownTypes = _verifier.KnownKeys().Where(k => !k.Revoked).Select(k => k.KeyType).ToHashSet(StringComparer.Ordinal);
        foreach (var algorithm in info.HostKeyAlgorithms.Keys.ToList())
        {
            if (!_verifier.KeepAlgorithm(algorithm, knownTypes))
            {
                info.HostKeyAlgorithms.Remove(algorithm);
            }
        }

        // The server may offer none of the recorded types; negotiating then fails, which is the right outcome, but
        // an empty list would fail with a confusing message, so fall back to plain keys and let the check speak.
        if (info.HostKeyAlgorithms.Count == 0)
        {
            throw new StoreException(StoreErrorReason.Unauthorized, location, null,
                $"no usable host key types are recorded for {KnownHosts.NameOf(address.Host, address.Port)} in {settings.KnownHostsFile}");
        }
    }
}
