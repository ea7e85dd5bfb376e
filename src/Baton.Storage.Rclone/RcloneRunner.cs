using System.ComponentModel;
using System.Diagnostics;

namespace Baton.Storage.Rclone;

/// <summary>What one rclone command did.</summary>
internal sealed record RcloneResult(int ExitCode, byte[] Output, string Errors);

/// <summary>Runs rclone commands: one process per operation, errors only on stderr, rclone's own retries off.</summary>
internal sealed class RcloneRunner(RcloneSettings settings, RcloneAddress address)
{
    // rclone retries whole commands 3 times by default; Baton's retry decorator decides instead. Low-level retries of
    // single HTTP requests stay on, as rclone knows each backend's throttling rules best.
    private static readonly string[] CommonFlags = ["--quiet", "--retries", "1"];

    /// <summary>Runs a command to completion, feeding <paramref name="input"/> to its stdin.</summary>
    public async Task<RcloneResult> RunAsync(IReadOnlyList<string> args, ReadOnlyMemory<byte>? input, string? key, CancellationToken cancellationToken)
    {
        using var process = Start(args, key, redirectInput: input is not null);
        using var kill = cancellationToken.Register(() => Kill(process));
        var output = ReadAllAsync(process.StandardOutput.BaseStream);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        if (input is { } data)
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                await process.StandardInput.BaseStream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // rclone ended early; its exit code and stderr tell why.
            }
            finally
            {
                process.StandardInput.Close();
            }
        }

        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return new RcloneResult(process.ExitCode, await output.ConfigureAwait(false), await errors.ConfigureAwait(false));
    }

    /// <summary>Starts a command whose stdout the caller reads; the caller owns the process.</summary>
    public Process Start(IReadOnlyList<string> args, string? key, bool redirectInput = false)
    {
        var info = new ProcessStartInfo(settings.Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (var arg in args.Take(1).Concat(CommonFlags).Concat(args.Skip(1)))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in settings.Environment)
        {
            info.Environment[name] = value;
        }

        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Win32Exception e)
        {
            throw new StoreException(StoreErrorReason.Unreachable, address.Display, key,
                $"cannot run '{settings.Program}' for {address.Display}: install rclone (Debian: apt install rclone) or set {RcloneSettings.ProgramVariable} to its path", e);
        }
    }

    /// <summary>Ends a process and its children, ignoring one that already ended.</summary>
    public static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        catch (Win32Exception)
        {
        }
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory).ConfigureAwait(false);
        return memory.ToArray();
    }
}
