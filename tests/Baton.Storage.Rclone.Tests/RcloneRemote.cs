using System.Diagnostics;
using Baton.Testing;

namespace Baton.Storage.Rclone.Tests;

/// <summary>
/// The real rclone program with a local-disk remote named <c>batontest</c> in a temporary config file (what
/// <c>rclone config</c> writes), so the store runs exactly the commands it runs against Google Drive.
/// </summary>
public sealed class RcloneRemote : IDisposable
{
    public const string RemoteName = "batontest";

    public RcloneRemote()
    {
        Program = FindRclone() ?? throw new InvalidOperationException("rclone is not installed: run eng/install-test-deps.sh (Debian package rclone)");
        Directory.CreateDirectory(Root);
        File.WriteAllText(ConfigFile, $"[{RemoteName}]\ntype = local\n");
    }

    public TempDirectory Folder { get; } = new("baton-rclone-");

    public string Program { get; }

    public string ConfigFile => Folder.Combine("rclone.conf");

    /// <summary>The folder the remote's paths land in.</summary>
    public string Root => Folder.Combine("data");

    /// <summary>The environment every rclone (and baton) process of the tests gets: the temporary config only.</summary>
    public Dictionary<string, string> Environment => new() { ["RCLONE_CONFIG"] = ConfigFile };

    public string Address(string folder) => $"rclone:{RemoteName}:{Root}/{folder}";

    public RcloneStore Store(string folder, IReadOnlyDictionary<string, string>? environment = null) =>
        new(RcloneAddress.Parse(StoreUri.Parse(Address(folder))), new RcloneSettings { Program = Program, Environment = environment ?? Environment });

    public void Dispose() => Folder.Dispose();

    private static string? FindRclone()
    {
        foreach (var folder in (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = Path.Combine(folder, "rclone");
            if (File.Exists(candidate))
            {
                using var process = Process.Start(new ProcessStartInfo(candidate, "version") { RedirectStandardOutput = true, UseShellExecute = false });
                process?.WaitForExit(10_000);
                return candidate;
            }
        }

        return null;
    }
}
