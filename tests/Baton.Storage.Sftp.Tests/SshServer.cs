using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Baton.Testing;

namespace Baton.Storage.Sftp.Tests;

/// <summary>
/// A real OpenSSH server on a free loopback port, run as the current user with a generated host key (ed25519 and
/// ECDSA) and a generated user key, so the tests exercise the same server users have.
/// </summary>
public sealed class SshServer : IAsyncLifetime
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    public TempDirectory Directory { get; } = new("baton-sshd-");

    public int Port { get; private set; }

    public static string User => Environment.UserName;

    /// <summary>The private key the server accepts.</summary>
    public string UserKey => Directory.Combine("user_ed25519");

    /// <summary>A known_hosts file that holds the server's ed25519 and ECDSA keys.</summary>
    public string KnownHosts => Directory.Combine("known_hosts");

    /// <summary>The server's host keys, as "type base64" lines.</summary>
    public string Ed25519HostKey { get; private set; } = "";

    public string EcdsaHostKey { get; private set; } = "";

    /// <summary>A folder on the server for stores (the server and the tests share the disk).</summary>
    public string Root => Directory.Combine("root");

    public string Address(string folder) => $"sftp://{User}@127.0.0.1:{Port}{Root}/{folder}";

    public SftpSettings Settings(string? knownHosts = null, bool acceptNew = false, string? key = null) => new()
    {
        KeyFiles = [key ?? UserKey],
        KeyFileGiven = true,
        KnownHostsFile = knownHosts ?? KnownHosts,
        AcceptNewHostKey = acceptNew,
    };

    public SftpStore Store(string folder, SftpSettings? settings = null) =>
        new(SftpAddress.Parse(Storage.StoreUri.Parse(Address(folder)), User), settings ?? Settings());

    public async Task InitializeAsync()
    {
        var sshd = new[] { "/usr/sbin/sshd", "/usr/bin/sshd" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("sshd is not installed: run eng/install-test-deps.sh (Debian package openssh-server)");
        await Tools.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Directory.Combine("host_ed25519"));
        await Tools.RunAsync("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", Directory.Combine("host_ecdsa"));
        await Tools.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", UserKey);
        File.Copy(UserKey + ".pub", Directory.Combine("authorized_keys"));
        System.IO.Directory.CreateDirectory(Root);
        Ed25519HostKey = PublicKey("host_ed25519.pub");
        EcdsaHostKey = PublicKey("host_ecdsa.pub");

        Port = FreePort.Next();
        File.WriteAllText(KnownHosts, $"[127.0.0.1]:{Port} {Ed25519HostKey}\n[127.0.0.1]:{Port} {EcdsaHostKey}\n");
        File.WriteAllText(Directory.Combine("sshd_config"), $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {Directory.Combine("host_ed25519")}
            HostKey {Directory.Combine("host_ecdsa")}
            AuthorizedKeysFile {Directory.Combine("authorized_keys")}
            PidFile {Directory.Combine("sshd.pid")}
            StrictModes no
            UsePAM no
            PermitRootLogin prohibit-password
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            MaxStartups 200
            MaxSessions 100
            LogLevel ERROR
            Subsystem sftp internal-sftp
            """);

        // sshd refuses to start as root without its privilege separation folder.
        if (Environment.UserName == "root")
        {
            System.IO.Directory.CreateDirectory("/run/sshd");
        }

        var info = new ProcessStartInfo(sshd) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-D", "-e", "-f", Directory.Combine("sshd_config") })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start sshd");
        _process.ErrorDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
        _process.BeginErrorReadLine();
        await WaitUntilListeningAsync();
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        Directory.Dispose();
        return Task.CompletedTask;
    }

    private string PublicKey(string file)
    {
        var fields = File.ReadAllText(Directory.Combine(file)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields[0] + " " + fields[1];
    }

    private async Task WaitUntilListeningAsync()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"sshd exited with {_process.ExitCode}: {_log}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException($"sshd did not listen on port {Port} within 10 s: {_log}");
    }
}
