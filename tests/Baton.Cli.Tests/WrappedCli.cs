using System.Diagnostics;
using Baton.Testing;

namespace Baton.Tests;

/// <summary>
/// Runs baton under a wrapper command that changes what the process sees: a mount namespace where the target is a
/// mount point, another host name, another user. Each wrapper ends with <c>exec</c>, so the process id is baton's.
/// </summary>
internal static class WrappedCli
{
    /// <summary>Makes <paramref name="directory"/> a mount point (a bind mount onto itself) for the process only.</summary>
    public static string[] AsMountPoint(string directory) =>
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount --bind \"$0\" \"$0\" && exec \"$@\"", directory];

    /// <summary>Another machine: a host name of its own (a UTS namespace).</summary>
    public static string[] OnHost(string host) => ["unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", host];

    /// <summary>An unprivileged user (nobody), who cannot write where permissions say no.</summary>
    public static string[] AsNobody() => ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

    public const int NobodyId = 65534;

    public static Process Start(IEnumerable<string> wrapper, IEnumerable<string> args)
    {
        var command = wrapper.ToList();
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var part in command.Skip(1).Concat(["dotnet", BatonCli.DllPath]).Concat(args))
        {
            info.ArgumentList.Add(part);
        }

        foreach (var name in new[] { "BATON_STORE", "BATON_RUN", "BATON_PASSWORD" })
        {
            info.Environment.Remove(name);
        }

        // An unprivileged user has no home of its own here.
        info.Environment["HOME"] = Path.GetTempPath();
        info.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {command[0]}");
    }

    public static async Task<CliResult> RunAsync(IEnumerable<string> wrapper, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        using var process = Start(wrapper, args);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Gives a tree to nobody, so that an unprivileged baton can work in it.</summary>
    public static void GiveToNobody(string path)
    {
        File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.OtherExecute | UnixFileMode.OtherRead);
        var chown = Process.Start("chown", ["-R", $"{NobodyId}:{NobodyId}", path]) ?? throw new InvalidOperationException("could not start chown");
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }
}
